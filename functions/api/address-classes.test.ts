import { describe, expect, it } from "vitest";
import { classOfHost, parseAddressClasses, type AddressClass } from "./address-classes.ts";

const ALL: AddressClass[] = ["LinkLocal", "Metadata", "Loopback", "Private"];

describe("classOfHost", () => {
  it.each([
    { reason: "the metadata service's address is link-local", host: "169.254.169.254", refused: ["LinkLocal"], want: "LinkLocal" },
    { reason: "with only Metadata refused, its address is still caught", host: "169.254.169.254", refused: ["Metadata"], want: "Metadata" },
    { reason: "another link-local address is not a metadata service", host: "169.254.1.1", refused: ["Metadata"], want: undefined },
    { reason: "GCP's metadata name", host: "metadata.google.internal", refused: ["Metadata"], want: "Metadata" },
    { reason: "GCP's metadata name with a trailing dot", host: "metadata.google.internal.", refused: ["Metadata"], want: "Metadata" },
    { reason: "AWS's IPv6 metadata address", host: "[fd00:ec2::254]", refused: ["Metadata"], want: "Metadata" },
    { reason: "Alibaba's metadata address", host: "100.100.100.200", refused: ["Metadata"], want: "Metadata" },
    {
      reason: "an IPv4-mapped IPv6 metadata address, as URL parsing writes it",
      host: new URL("http://[::ffff:169.254.169.254]/").hostname,
      refused: ["LinkLocal"],
      want: "LinkLocal",
    },
    { reason: "an IPv6 link-local address", host: "[fe80::1]", refused: ["LinkLocal"], want: "LinkLocal" },
    { reason: "loopback is allowed unless refused", host: "127.0.0.1", refused: ["LinkLocal", "Metadata"], want: undefined },
    { reason: "loopback when refused", host: "127.0.0.1", refused: ALL, want: "Loopback" },
    { reason: "localhost by name", host: "localhost", refused: ["Loopback"], want: "Loopback" },
    { reason: "a .localhost name", host: "api.localhost", refused: ["Loopback"], want: "Loopback" },
    { reason: "an RFC 1918 address", host: "10.0.0.7", refused: ["Private"], want: "Private" },
    { reason: "172.32 is outside 172.16/12", host: "172.32.0.1", refused: ["Private"], want: undefined },
    { reason: "an in-cluster service name", host: "minio.storage.svc", refused: ["Private"], want: "Private" },
    { reason: "an in-cluster service's full name", host: "minio.storage.svc.cluster.local", refused: ["Private"], want: "Private" },
    { reason: "a public name is never refused by class", host: "huggingface.co", refused: ALL, want: undefined },
    { reason: "a name that only contains 'metadata'", host: "metadata.example.com", refused: ALL, want: undefined },
  ] as { reason: string; host: string; refused: AddressClass[]; want: AddressClass | undefined }[])("$reason", ({ host, refused, want }) => {
    expect(classOfHost(host, refused)).toBe(want);
  });

  it("a decimal IPv4 host is read as the address it is (URL parsing normalizes it)", () => {
    expect(classOfHost(new URL("http://2852039166/latest/meta-data").hostname, ["LinkLocal"])).toBe("LinkLocal");
  });
});

describe("parseAddressClasses", () => {
  it.each([
    { reason: "a list", list: "LinkLocal,Metadata", want: { ok: true, value: ["LinkLocal", "Metadata"] } },
    { reason: "empty is none", list: "", want: { ok: true, value: [] } },
    { reason: "spaces and repeats", list: " Loopback , Loopback", want: { ok: true, value: ["Loopback"] } },
    {
      reason: "a word that is not a class",
      list: "LinkLocal,Internal",
      want: { ok: false, error: '"Internal" is not an address class (LinkLocal, Metadata, Loopback, Private)' },
    },
  ])("$reason", ({ list, want }) => {
    expect(parseAddressClasses(list)).toEqual(want);
  });
});
