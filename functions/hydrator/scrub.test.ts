// No credential leaves the hydrator in any text it writes: remembered values
// in every encoding they were sent in, and Authorization-shaped text whatever
// its value.
import { describe, expect, it } from "vitest";
import { rememberEnvironment, rememberSecret, rememberUrl, scrub } from "./scrub.ts";

rememberEnvironment({ HF_TOKEN: "hf_rememberedTokenValue0001", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCY", PATH: "/usr/bin" });
rememberUrl("https://alice:p%40ss-word@host.example/x.bin?X-Amz-Signature=0f0f0f0f&plain=visiblevalue");
rememberSecret("registry-password-1");

describe("scrub", () => {
  const cases: [text: string, gone: string[], kept: string[], reason: string][] = [
    ["HTTP 401: denied for hf_rememberedTokenValue0001", ["hf_rememberedTokenValue0001"], ["HTTP 401"], "a remembered environment token"],
    [
      "echo: d0phbHJYVXRuRkVNSS9LN01ERU5HL2JQeFJmaUNZ",
      ["d0phbHJYVXRuRkVNSS9LN01ERU5HL2JQeFJmaUNZ"],
      ["echo"],
      "the base64 of a remembered secret (how Basic sends it)",
    ],
    ["got p@ss-word and p%40ss-word", ["p@ss-word", "p%40ss-word"], ["got"], "a URL's password, decoded and as typed"],
    ["query value 0f0f0f0f echoed", ["0f0f0f0f"], ["echoed"], "a remembered query value (a presigned signature)"],
    ["visiblevalue", ["visiblevalue"], [], "every query value is remembered: which one is secret is the server's business"],
    ["denied: registry-password-1", ["registry-password-1"], ["denied"], "a value a source remembered"],
    ["Authorization: Bearer abc.def.ghi-unknown", ["abc.def.ghi-unknown"], ["Authorization"], "a header line echoed by a server, value unknown to us"],
    ['{"authorization":"Basic dXNlcjpwYXNz"}', ["dXNlcjpwYXNz"], ["authorization"], "a header echoed as JSON"],
    ["you sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", ["eyJhbGciOiJIUzI1NiJ9"], ["you sent Bearer"], "a bearer token in prose"],
    [
      "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abcdef0123",
      ["AKIAEXAMPLE", "abcdef0123"],
      ["AWS4-HMAC-SHA256"],
      "SigV4 in a header",
    ],
    [
      "see https://u:pw-unknown@h.example/k?X-Amz-Security-Token=tok-unknown&X-Amz-Signature=sig-unknown",
      ["pw-unknown", "tok-unknown", "sig-unknown"],
      ["https://h.example/k"],
      "a URL with userinfo and a presigned query",
    ],
    ["?sv=2024&sig=azure-sig-unknown&se=2030", ["azure-sig-unknown"], [], "an Azure SAS signature outside a URL"],
    ["X-Goog-Signature=goog-sig-unknown", ["goog-sig-unknown"], [], "a GCS signature outside a URL"],
    ["token hf_abcdefghijklmnopqrstuvwx found", ["hf_abcdefghijklmnopqrstuvwx"], ["found"], "a Hugging Face token shape"],
    [
      "Basic auth is not configured: token service https://auth.example/token",
      [],
      ["Basic auth is not configured", "token service https://auth.example/token"],
      "prose about auth stays readable",
    ],
  ];
  it.each(cases)("%s (%s)", (text, gone, kept) => {
    const out = scrub(text);
    for (const g of gone) expect(out).not.toContain(g);
    for (const k of kept) expect(out).toContain(k);
  });
});
