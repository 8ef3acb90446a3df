// No file path a source lists may leave the destination, and no URI printed
// may carry a credential: the two promises paths.ts exists for.
import { posix } from "node:path";
import { describe, expect, it } from "vitest";
import { redactUri, safeRelativePath } from "./paths.ts";

describe("safeRelativePath refuses every path that could leave the destination", () => {
  const refused: [path: string, reason: string][] = [
    ["", "an empty path names no file"],
    ["/etc/passwd", "an absolute path ignores the destination"],
    ["//server/share", "a double-slash absolute path is still absolute"],
    ["..", "the parent of the destination"],
    ["../x", "a leading .. climbs out"],
    ["a/../../x", ".. in the middle climbs out once normalized"],
    ["a/..", "a trailing .. is a parent segment wherever it stands"],
    ["./a", "a . segment is not normalized: two spellings of one file would defeat dedup"],
    ["a/./b", "a . segment in the middle"],
    ["a//b", "an empty segment: two spellings of one file"],
    ["a/", "a trailing slash is an empty last segment (a directory, not a file)"],
    ["..\\x", "a backslash is a separator to Windows tools and some archives"],
    ["a\\b", "any backslash, even without .."],
    ["C:\\x", "a Windows drive path"],
    ["a\u0000b", "NUL truncates the path in every C API"],
    ["a\nb", "a newline would split a SHA256SUMS line and a terminal line"],
    ["a\rb", "a carriage return rewrites a terminal line"],
    ["a\tb", "tab is a control character too"],
    ["a\u001bb", "ESC starts terminal escape sequences"],
    ["a\u007fb", "DEL is a control character"],
  ];
  it.each(refused)("%j: %s", (path, _reason) => {
    const r = safeRelativePath(path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
  });

  const accepted: [path: string, reason: string][] = [
    ["model.safetensors", "a plain file name"],
    ["a/b/c.json", "nested directories"],
    ["..hidden", "a name that merely starts with two dots is not the parent"],
    ["a..b/c...d", "dots inside names"],
    [".gitattributes", "a dot file"],
    ["with space/and space.bin", "spaces are legal and sha256sum handles them"],
    ["ünïcødé/模型.bin", "non-ASCII names"],
    ["*star", "a leading star (sha256sum's binary marker position) is still a name"],
  ];
  it.each(accepted)("%j is accepted: %s", (path, _reason) => {
    expect(safeRelativePath(path)).toEqual({ ok: true, value: path });
  });

  it("every accepted path stays under the destination once joined and normalized", () => {
    const dest = "/cache";
    for (const [path] of accepted) {
      const joined = posix.normalize(posix.join(dest, path));
      expect(joined.startsWith(`${dest}/`), path).toBe(true);
    }
  });

  it("names the offending path in the error so the user can find the file", () => {
    const r = safeRelativePath("weights/../../etc/shadow");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("weights/../../etc/shadow");
  });
});

describe("redactUri removes credentials and signed query strings", () => {
  const cases: [uri: string, want: string, reason: string][] = [
    ["https://user:p4ss@example.com/models/x.bin", "https://example.com/models/x.bin", "basic-auth userinfo"],
    ["https://hf_token123@huggingface.co/org/repo", "https://huggingface.co/org/repo", "a token as the user name"],
    ["https://u:p@ss@example.com/x", "https://example.com/x", "an unencoded @ in the password: the last @ ends the userinfo"],
    ["https://bucket.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Credential=AKIA", "https://bucket.s3.amazonaws.com/k", "a presigned URL's signature"],
    ["https://example.com/x#access_token=abc", "https://example.com/x", "a token in the fragment"],
    ["https://example.com:8443/x", "https://example.com:8443/x", "a port is not a credential"],
    ["s3://models/qwen3-8b/", "s3://models/qwen3-8b/", "nothing to remove"],
    ["file:///etc/modelcache/source", "file:///etc/modelcache/source", "an empty authority"],
    ["oci://registry.example.com/models/q@sha256:0123", "oci://registry.example.com/models/q@sha256:0123", "an @ in the path (a digest) is not userinfo"],
    ["hf://Qwen/Qwen3-8B@main", "hf://Qwen/Qwen3-8B@main", "an @ after the first / (a revision) is kept"],
    ["not a uri?token=abc", "not a uri", "a non-URI still loses its query"],
    ["https://user:pa#ss@example.com/x", "https://example.com/x", "an unencoded # in the password does not end the userinfo"],
    ["https://user:p?ss@example.com", "https://example.com", "nor does an unencoded ?"],
    ["https://example.com?sig=a/b", "https://example.com", "a query right after the host, holding a /"],
    ["https://example.com#t=x/y", "https://example.com", "a fragment right after the host, holding a /"],
  ];
  it.each(cases)("%s -> %s (%s)", (uri, want, _reason) => {
    expect(redactUri(uri)).toBe(want);
  });

  it("never returns the secret part for any of the credential cases", () => {
    for (const secret of ["p4ss", "hf_token123", "X-Amz-Signature", "access_token", "pa#ss", "p?ss", "user", "sig="]) {
      for (const [uri] of cases) expect(redactUri(uri)).not.toContain(secret);
    }
  });
});
