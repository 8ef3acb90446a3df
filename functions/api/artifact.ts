// What a cache holds and where the bytes come from. Shared by ModelCache
// (intent at the fleet level) and ModelCacheReplica (the same intent, handed
// to one cluster).
import { z } from "zod";
import { SOURCE_KEYS, sourceShape } from "../sources/registry.ts";
import { LocalObjectReference, exactlyOne } from "./k8s.ts";

const sourceOne = exactlyOne(SOURCE_KEYS);

export const Source = z.object(sourceShape()).strict().superRefine(sourceOne.refine).meta(sourceOne.meta);
export type Source = z.infer<typeof Source>;

export const ARTIFACT_KINDS = ["Weights", "Tokenizer", "Bytes", "Adapter", "Engine"] as const;

export const Adapter = z
  .object({
    type: z.enum(["lora", "qlora", "controlnet", "ipadapter", "textualInversion", "t2iAdapter"]),
    baseRef: LocalObjectReference.describe("The ModelCache holding the base weights, in the same namespace."),
  })
  .strict();

export const Engine = z
  .object({
    runtime: z.enum(["TensorRT-LLM", "NIM", "vLLM", "SGLang", "Other"]),
    profile: z.string().min(1).max(253).describe("Engine profile, e.g. a NIM profile id or a TensorRT-LLM build profile."),
    gpuProductName: z.string().max(64).optional().describe("The GPU the engine was built for; clusters without it are not eligible."),
  })
  .strict();

export const Artifact = z
  .object({
    kind: z.enum(ARTIFACT_KINDS).default("Weights"),
    adapter: Adapter.optional().describe("Required when kind is Adapter."),
    engine: Engine.optional().describe("Required when kind is Engine."),
    layout: z
      .enum(["Flat", "HuggingFaceCache"])
      .default("Flat")
      .describe("Flat: a materialized directory with SHA256SUMS. HuggingFaceCache: hub/models--org--name/{refs,snapshots} for HF_HUB_CACHE."),
    source: Source,
  })
  .strict()
  .superRefine((a, ctx) => {
    if ((a.kind === "Adapter") !== (a.adapter !== undefined))
      ctx.addIssue({
        code: "custom",
        path: ["adapter"],
        message: a.kind === "Adapter" ? "is required when kind is Adapter" : "is only allowed when kind is Adapter",
      });
    if ((a.kind === "Engine") !== (a.engine !== undefined))
      ctx.addIssue({
        code: "custom",
        path: ["engine"],
        message: a.kind === "Engine" ? "is required when kind is Engine" : "is only allowed when kind is Engine",
      });
    if (a.layout === "HuggingFaceCache" && a.source.huggingFace === undefined)
      ctx.addIssue({ code: "custom", path: ["layout"], message: "HuggingFaceCache needs a huggingFace source (the layout is keyed by repo and commit)" });
  })
  .meta({
    "x-kubernetes-validations": [
      { rule: "(self.kind == 'Adapter') == has(self.adapter)", message: "adapter is required when kind is Adapter, and only allowed then" },
      { rule: "(self.kind == 'Engine') == has(self.engine)", message: "engine is required when kind is Engine, and only allowed then" },
      { rule: "self.layout != 'HuggingFaceCache' || has(self.source.huggingFace)", message: "layout HuggingFaceCache needs a huggingFace source" },
    ],
  });
export type Artifact = z.infer<typeof Artifact>;
