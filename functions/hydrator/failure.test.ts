// A failure's exit code and, for a permanent one, whose it is (the report's `permanent`): the function stops
// retrying a permanent failure, and hands the first copy from the source to another node only when it is not the
// source's (functions/composition/replica/node-seed.ts). One row per kind of failure fromError sees.
import { describe, expect, it } from "vitest";
import { fromError, type HydrateOutcome } from "./hydrate.ts";
import { DigestMismatch } from "./retry.ts";
import { SourceError, type RemoteObject } from "./sources/types.ts";
import { TransferError } from "./transfer.ts";
import { HostileArchive } from "./unpack.ts";

const REF = "https://models.example/m.bin";
const object: RemoteObject = { id: "w.bin", size: 10, unpack: { kind: "file", path: "w.bin" } } as RemoteObject;
const fsError = (code: string) => Object.assign(new Error(`${code}: on the volume`), { code });

describe("fromError: the exit code and whose a permanent failure is", () => {
  it.each<{ reason: string; err: unknown; want: Omit<Extract<HydrateOutcome, { ok: false }>, "message"> }>([
    {
      reason: "a 404: the source's, permanent",
      err: new SourceError("404 Not Found", { status: 404, retryable: false }),
      want: { ok: false, exitCode: 3, permanent: "Source" },
    },
    {
      reason: "a refused credential (401): the source's, permanent",
      err: new SourceError("401 Unauthorized", { status: 401, retryable: false }),
      want: { ok: false, exitCode: 3, permanent: "Source" },
    },
    {
      reason: "a 503: worth retrying, nothing permanent said",
      err: new SourceError("503", { status: 503, retryable: true }),
      want: { ok: false, exitCode: 1 },
    },
    {
      reason: "bytes the source serves that do not match: the source's",
      err: new DigestMismatch("w.bin", "sha256 differs"),
      want: { ok: false, exitCode: 3, permanent: "Source" },
    },
    {
      reason: "a hostile archive path: the source's",
      err: new HostileArchive("../etc/passwd", "escapes the destination"),
      want: { ok: false, exitCode: 3, permanent: "Source" },
    },
    { reason: "the volume is full (ENOSPC): the destination's", err: fsError("ENOSPC"), want: { ok: false, exitCode: 3, permanent: "Destination" } },
    { reason: "the volume refuses writes (EACCES): the destination's", err: fsError("EACCES"), want: { ok: false, exitCode: 3, permanent: "Destination" } },
    {
      reason: "a read-only volume while writing one file (EROFS in a TransferError): the destination's",
      err: new TransferError(object, fsError("EROFS"), false),
      want: { ok: false, exitCode: 3, permanent: "Destination" },
    },
    {
      reason: "a file the server refuses (a TransferError around a 403): the source's",
      err: new TransferError(object, new SourceError("403 Forbidden", { status: 403, retryable: false }), false),
      want: { ok: false, exitCode: 3, permanent: "Source" },
    },
    {
      reason: "a connection reset: worth retrying",
      err: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      want: { ok: false, exitCode: 1 },
    },
  ])("$reason", ({ err, want }) => {
    const { message, ...rest } = fromError(err, REF) as Extract<HydrateOutcome, { ok: false }>;
    expect(rest).toEqual(want);
    expect(message).toContain(REF);
  });

  it("an interrupted run is worth retrying (the staging area is kept)", () => {
    const ac = new AbortController();
    ac.abort(new Error("SIGTERM"));
    const { message, ...rest } = fromError(new Error("aborted"), REF, ac.signal) as Extract<HydrateOutcome, { ok: false }>;
    expect(rest).toEqual({ ok: false, exitCode: 1 });
    expect(message).toMatch(/interrupted/);
  });
});
