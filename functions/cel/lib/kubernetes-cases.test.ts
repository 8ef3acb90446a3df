// The CEL libraries a DRA selector may use, held to the cases Kubernetes and cel-go test them with.
// Each case names where it comes from: K8S = kubernetes/kubernetes, staging/src/k8s.io/...;
// CELGO = google/cel-go. A case is the upstream expression as written (or its boolean form:
// `expr == expected`), with the upstream expectation; "adapted" says what had to change to fit a
// selector (a `device` becomes `cluster.devices[0]`).
import { describe, expect, it } from "vitest";
import { compileSelector, evaluateSelector, type ClusterFactsInput } from "../index.ts";

const APISERVER = "K8S apiserver/pkg/cel/library";
const DRA = "K8S dynamic-resource-allocation/cel/compile_test.go TestCEL";
const STRINGS = "CELGO ext/strings_test.go stringTests";
const FORMAT = "CELGO ext/formatting_test.go TestStringFormat";

const cluster: ClusterFactsInput = { name: "c" };

function run(expr: string, facts: ClusterFactsInput = cluster) {
  const c = compileSelector(expr);
  if (!c.ok) return { compileError: `${c.error.kind}: ${c.error.message}` };
  const r = evaluateSelector(c.program, facts);
  return r.ok ? { value: r.value } : { evalError: `${r.error.kind}: ${r.error.message}` };
}

/** A case that must evaluate to true. */
type True = { expr: string; from: string };
/** A case that must fail, at compile time or for the cluster, with a message containing `error`. */
type Fails = { expr: string; from: string; at: "compile" | "eval"; error: string };

const trueCases = (cases: True[]) =>
  it.each(cases)("$expr  ($from)", ({ expr }) => {
    expect(run(expr)).toEqual({ value: true });
  });
const failCases = (cases: Fails[]) =>
  it.each(cases)("$expr fails at $at  ($from)", ({ expr, at, error }) => {
    const r = run(expr);
    const message = at === "compile" ? r.compileError : r.evalError;
    expect(message, JSON.stringify(r)).toContain(error);
  });

describe("regex: RE2 (Go's regexp), for matches, find and findAll", () => {
  trueCases([
    { expr: `"123 abc 456".matches('[0-9]*')`, from: "CELGO cel/cel_test.go TestRegexOptimizer" },
    { expr: `"123 abc 456".matches('[0-9]' + '*')`, from: "CELGO cel/cel_test.go TestRegexOptimizer (a pattern built at run time)" },
    { expr: `'hello'.matches('el*')`, from: "CELGO cel/validator_test.go TestValidateRegexLiterals" },
    { expr: `"asymetric".matches("[^a]?sym")`, from: `${DRA} regexp_attribute (adapted: the attribute's value as a literal)` },
    { expr: `int('1'.find('[0-9]*')) < 100`, from: `${DRA} expensive (its innermost predicate)` },
    { expr: `"abc 123".find('xyz') == ''`, from: `${APISERVER}/regex.go Regex() examples` },
    { expr: `"123 abc 456".findAll('[0-9]*', 1) == ['123']`, from: `${APISERVER}/regex.go Regex() examples` },
    { expr: `"123 abc 456".findAll('xyz') == []`, from: `${APISERVER}/regex.go Regex() examples` },
    // Go's FindString returns the leftmost match, which for [0-9]* on "abc 123" is the empty match at
    // 0 (regex.go's comment says '123'; Go, and so Kubernetes, answer ''), and FindAllString keeps
    // the empty matches between a, b, c and the spaces.
    { expr: `"abc 123".find('[0-9]*') == ''`, from: "Go regexp FindString semantics (the doc example of regex.go, as Go evaluates it)" },
    {
      expr: `"123 abc 456".findAll('[0-9]*') == ['123', '', '', '', '', '456']`,
      from: "Go regexp FindAllString semantics (the doc example of regex.go, as Go evaluates it)",
    },
    { expr: `"Ünïcødé".matches('^\\\\pL+$')`, from: "Go regexp/syntax: \\pL is a one-letter Unicode class (issue 9)" },
    { expr: `"Ábc".matches('^\\\\p{Lu}') && !"ábc".matches('^\\\\p{Lu}')`, from: "Go regexp/syntax: \\p{Lu} (issue 9)" },
    { expr: `"a.b".matches('^\\\\Qa.b\\\\E$') && !"axb".matches('^\\\\Qa.b\\\\E$')`, from: "Go regexp/syntax: \\Q...\\E quotes literally (issue 9)" },
    { expr: `"ABC".matches('(?i)^abc$')`, from: "Go regexp/syntax: (?i) flag group (issue 9)" },
    { expr: `"😀".matches('^.$') && !"😀".matches('^..$')`, from: "Go regexp/syntax: . is one code point, not one UTF-16 unit (issue 9)" },
    { expr: `!"\\n".matches('.') && "\\n".matches('(?s).')`, from: "Go regexp/syntax: . excludes newline unless (?s)" },
    { expr: `matches("NVIDIA H100", "^NVIDIA")`, from: "CEL spec: the global matches(string, string) overload" },
  ]);
  failCases([
    {
      expr: `"123 abc 456".matches(')[0-9]*')`,
      at: "compile",
      error: "unexpected ): `)[0-9]*`",
      from: "CELGO cel/cel_test.go TestRegexOptimizer (optimized: error at program creation)",
    },
    {
      expr: `"123 abc 456".matches(')' + '[0-9]*')`,
      at: "eval",
      error: "unexpected ): `)[0-9]*`",
      from: "CELGO cel/cel_test.go TestRegexOptimizer (not optimized: error at evaluation)",
    },
    { expr: `'hello'.matches('x++')`, at: "compile", error: "invalid regular expression", from: "CELGO cel/validator_test.go TestValidateRegexLiterals" },
    {
      expr: `'hello'.matches('(?<name%>el*)')`,
      at: "compile",
      error: "invalid regular expression",
      from: "CELGO cel/validator_test.go TestValidateRegexLiterals",
    },
    { expr: `'hello'.matches('??el*')`, at: "compile", error: "invalid regular expression", from: "CELGO cel/validator_test.go TestValidateRegexLiterals" },
    {
      expr: `"x".find("[") == ""`,
      at: "compile",
      error: "missing closing ]",
      from: `${APISERVER}/regex.go FindRegexOptimization (constant patterns compiled up front)`,
    },
    {
      // Kubernetes compiles this and stops it at run time ("actual cost limit exceeded"); here the
      // static estimate already refuses it. Either way it is not evaluated to the end.
      expr: `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(y, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z2, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z4, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].all(z5, int('1'.find('[0-9]*')) < 100)))))))`,
      at: "compile",
      error: "Cost: estimated cost",
      from: `${DRA} expensive`,
    },
  ]);
});

describe("lists: isSorted, sum, min, max, indexOf, lastIndexOf", () => {
  trueCases([
    { expr: `[1, 2, 3].isSorted()`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `['a', 'b', 'b', 'c'].isSorted()`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[2.0, 1.0].isSorted() == false`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1].isSorted()`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1, 3].sum() == 4`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1.0, 3.0].sum() == 4.0`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1, 3].min() == 1`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1, 3].max() == 3`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1].min() == 1`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1, 2, 2, 3].indexOf(2) == 1`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `['a', 'b', 'b', 'c'].lastIndexOf('b') == 2`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1.0].indexOf(1.1) == -1`, from: `${APISERVER}/lists.go Lists() examples` },
    { expr: `[1, 2, 3, 4, 5].sum() == 15`, from: `${APISERVER}/cost_test.go TestListsCost (intListLiteral)` },
    { expr: `[uint(1), uint(2), uint(3), uint(4), uint(5)].sum() == uint(15)`, from: `${APISERVER}/cost_test.go TestListsCost (uintListLiteral)` },
    { expr: `[1.0, 2.0, 3.0, 4.0, 5.0].max() == 5.0`, from: `${APISERVER}/cost_test.go TestListsCost (doubleListLiteral)` },
    {
      expr: `[false, true, false, true, false].isSorted() == false && [false, true, false, true, false].max()`,
      from: `${APISERVER}/cost_test.go TestListsCost (boolListLiteral)`,
    },
    {
      expr: `['012345678901', '012345678901', '012345678901', '012345678901', '012345678901'].isSorted()`,
      from: `${APISERVER}/cost_test.go TestListsCost (stringListLiteral)`,
    },
    { expr: `[1, 2, 3, 4, 5].indexOf(3) == 2 && [1, 2, 3, 4, 5].lastIndexOf(3) == 2`, from: `${APISERVER}/cost_test.go TestIndexOfCost (intListLiteral)` },
  ]);
  failCases([
    {
      expr: `[0].filter(x, x > 5).min() == 0`,
      at: "eval",
      error: "min called on empty list",
      from: `${APISERVER}/lists.go Lists() examples ([].min() // error; adapted: an empty list<int>)`,
    },
    { expr: `[9223372036854775807, 1].sum() > 0`, at: "eval", error: "integer overflow", from: "cel-go int64 Add overflow, as lists.go's sum uses it" },
  ]);
});

describe("strings: charAt, replace, format, strings.quote (cel-go ext strings)", () => {
  trueCases([
    { expr: `'tacocat'.charAt(3) == 'o'`, from: STRINGS },
    { expr: `'tacocat'.charAt(7) == ''`, from: STRINGS },
    { expr: `'©αT'.charAt(0) == '©' && '©αT'.charAt(1) == 'α' && '©αT'.charAt(2) == 'T'`, from: STRINGS },
    { expr: `"12 days 12 hours".replace("{0}", "2") == "12 days 12 hours"`, from: STRINGS },
    { expr: `"{0} days {0} hours".replace("{0}", "2") == "2 days 2 hours"`, from: STRINGS },
    { expr: `"{0} days {0} hours".replace("{0}", "2", 1).replace("{0}", "23") == "2 days 23 hours"`, from: STRINGS },
    { expr: `"1 ©αT taco".replace("αT", "o©α") == "1 ©o©α taco"`, from: STRINGS },
    { expr: `"hello hello".replace("", "_") == "_h_e_l_l_o_ _h_e_l_l_o_"`, from: STRINGS },
    { expr: `"hello hello".replace("h", "") == "ello ello"`, from: STRINGS },
    { expr: `'hello hello'.replace('he', 'we') == 'wello wello'`, from: "CELGO ext/strings_test.go TestStringsVersions" },
    { expr: `strings.quote("first\\nsecond") == "\\"first\\\\nsecond\\""`, from: STRINGS },
    { expr: `strings.quote("bell\\a") == "\\"bell\\\\a\\""`, from: STRINGS },
    { expr: `strings.quote("verbatim") == "\\"verbatim\\""`, from: STRINGS },
    { expr: `strings.quote("mid string \\" quote") == "\\"mid string \\\\\\" quote\\""`, from: STRINGS },
    { expr: `strings.quote("printable unicode😀") == "\\"printable unicode😀\\""`, from: STRINGS },
    { expr: `strings.quote("") == "\\"\\""`, from: STRINGS },
    { expr: `strings.quote('%s %s').format(['hello', 'world']) == "\\"hello world\\""`, from: STRINGS },
    { expr: `'a %d'.format([1]) == 'a 1'`, from: "CELGO ext/strings_test.go TestStringsVersions" },
    { expr: `"no substitution".format([]) == "no substitution"`, from: `${FORMAT} no-op` },
    { expr: `"str is %s and some more".format(["filler"]) == "str is filler and some more"`, from: `${FORMAT} mid-string substitution` },
    { expr: `"%% and also %%".format([]) == "% and also %"`, from: `${FORMAT} percent escaping` },
    { expr: `"%%%s%%".format(["text"]) == "%text%"`, from: `${FORMAT} substution inside escaped percent signs` },
    {
      expr: `"%d %d %d, %s %s %s, %d %d %d, %s %s %s".format([dyn(1), dyn(2), dyn(3), dyn("A"), dyn("B"), dyn("C"), dyn(4), dyn(5), dyn(6), dyn("D"), dyn("E"), dyn("F")]) == "1 2 3, A B C, 4 5 6, D E F"`,
      from: `${FORMAT} multiple substitutions (adapted: dyn() per argument, since Kubernetes, like this environment, requires homogeneous list literals)`,
    },
    { expr: `"%.3f".format([1.2345]) == "1.234"`, from: `${FORMAT} fixed point formatting clause` },
    { expr: `"this is 5 in binary: %b".format([5]) == "this is 5 in binary: 101"`, from: `${FORMAT} binary formatting clause` },
    { expr: `"this is -5 in binary: %b".format([-5]) == "this is -5 in binary: -101"`, from: `${FORMAT} negative binary formatting clause` },
    { expr: `"unsigned 64 in binary: %b".format([uint(64)]) == "unsigned 64 in binary: 1000000"`, from: `${FORMAT} uint support for binary formatting` },
    { expr: `"bit set from bool: %b".format([true]) == "bit set from bool: 1"`, from: `${FORMAT} bool support for binary formatting` },
    { expr: `"%o".format([11]) == "13" && "%o".format([-11]) == "-13"`, from: `${FORMAT} octal formatting clause, negative octal formatting clause` },
    {
      expr: `"this is an unsigned octal: %o".format([uint(65535)]) == "this is an unsigned octal: 177777"`,
      from: `${FORMAT} uint support for octal formatting clause`,
    },
    { expr: `"%x is 30 in hexadecimal".format([30]) == "1e is 30 in hexadecimal"`, from: `${FORMAT} lowercase hexadecimal formatting clause` },
    { expr: `"%X is 20 in hexadecimal".format([30]) == "1E is 20 in hexadecimal"`, from: `${FORMAT} uppercase hexadecimal formatting clause` },
    { expr: `"%x is -30 in hexadecimal".format([-30]) == "-1e is -30 in hexadecimal"`, from: `${FORMAT} negative hexadecimal formatting clause` },
    {
      expr: `"%X is 6000 in hexadecimal".format([uint(6000)]) == "1770 is 6000 in hexadecimal"`,
      from: `${FORMAT} unsigned support for hexadecimal formatting clause`,
    },
    { expr: `"%x".format(["Hello world!"]) == "48656c6c6f20776f726c6421"`, from: `${FORMAT} string support with hexadecimal formatting clause` },
    { expr: `"%X".format(["Hello world!"]) == "48656C6C6F20776F726C6421"`, from: `${FORMAT} string support with uppercase hexadecimal formatting clause` },
    { expr: `"%f".format([2.71828]) == "2.718280"`, from: `${FORMAT} default precision for fixed-point clause` },
    { expr: `"%s".format([2.71]) == "2.71"`, from: `${FORMAT} default precision for string` },
    { expr: `"%s".format([0.000000002]) == "2e-09"`, from: `${FORMAT} default scientific notation for string` },
  ]);
  failCases([
    { expr: `'tacocat'.charAt(8) == ''`, at: "eval", error: "index out of range", from: "CELGO ext/strings.go charAt (an index past the end is an error)" },
    {
      expr: `"A".replace("", "AAAAAAAAAA").replace("", "AAAAAAAAAA").replace("", "AAAAAAAAAA").replace("", "AAAAAAAAAA").replace("", "AAAAAAAAAA").replace("", "AAAAAAAAAA") == ""`,
      at: "eval",
      error: "Budget",
      from: "CELGO ext/strings_test.go TestStringCostLimitEnforced (exponential output is stopped)",
    },
  ]);
});

describe("ip and cidr", () => {
  trueCases([
    { expr: `ip("192.168.0.1") == ip("192.168.0.1")`, from: `${APISERVER}/ip_test.go TestIP parse ipv4` },
    { expr: `isIP("192.168.0.1")`, from: `${APISERVER}/ip_test.go TestIP isIP valid ipv4` },
    { expr: `!isIP("192.168.0.1.0")`, from: `${APISERVER}/ip_test.go TestIP isIP invalid ipv4` },
    { expr: `ip.isCanonical("127.0.0.1")`, from: `${APISERVER}/ip_test.go TestIP ip.isCanonical valid ipv4` },
    { expr: `ip("192.168.0.1").family() == 4`, from: `${APISERVER}/ip_test.go TestIP ipv4 family` },
    { expr: `ip("0.0.0.0").isUnspecified() && !ip("127.0.0.1").isUnspecified()`, from: `${APISERVER}/ip_test.go TestIP ipv4 isUnspecified true/false` },
    { expr: `ip("127.0.0.1").isLoopback() && !ip("1.2.3.4").isLoopback()`, from: `${APISERVER}/ip_test.go TestIP ipv4 isLoopback true/false` },
    {
      expr: `ip("224.0.0.1").isLinkLocalMulticast() && !ip("224.0.1.1").isLinkLocalMulticast()`,
      from: `${APISERVER}/ip_test.go TestIP ipv4 isLinkLocalMulticast true/false`,
    },
    {
      expr: `ip("169.254.169.254").isLinkLocalUnicast() && !ip("192.168.0.1").isLinkLocalUnicast()`,
      from: `${APISERVER}/ip_test.go TestIP ipv4 isLinkLocalUnicast true/false`,
    },
    {
      expr: `ip("192.168.0.1").isGlobalUnicast() && !ip("255.255.255.255").isGlobalUnicast()`,
      from: `${APISERVER}/ip_test.go TestIP ipv4 isGlobalUnicast true/false`,
    },
    { expr: `string(ip("2001:db8::68")) == "2001:db8::68"`, from: `${APISERVER}/ip_test.go TestIP parse ipv6` },
    { expr: `isIP("2001:db8::68") && !isIP("2001:db8:::68")`, from: `${APISERVER}/ip_test.go TestIP isIP valid ipv6 / invalid` },
    {
      expr: `ip.isCanonical("2001:db8::68") && !ip.isCanonical("2001:DB8::68")`,
      from: `${APISERVER}/ip_test.go TestIP ip.isCanonical valid / non-canonical ipv6`,
    },
    { expr: `ip("2001:db8::68").family() == 6`, from: `${APISERVER}/ip_test.go TestIP ipv6 family` },
    { expr: `ip("::").isUnspecified() && !ip("::1").isUnspecified()`, from: `${APISERVER}/ip_test.go TestIP ipv6 isUnspecified true/false` },
    { expr: `ip("::1").isLoopback() && !ip("2001:db8::abcd").isLoopback()`, from: `${APISERVER}/ip_test.go TestIP ipv6 isLoopback true/false` },
    {
      expr: `ip("ff02::1").isLinkLocalMulticast() && !ip("fd00::1").isLinkLocalMulticast()`,
      from: `${APISERVER}/ip_test.go TestIP ipv6 isLinkLocalMulticast true/false`,
    },
    {
      expr: `ip("fe80::1").isLinkLocalUnicast() && !ip("fd80::1").isLinkLocalUnicast()`,
      from: `${APISERVER}/ip_test.go TestIP ipv6 isLinkLocalUnicast true/false`,
    },
    {
      expr: `ip("2001:db8::abcd").isGlobalUnicast() && !ip("ff00::1").isGlobalUnicast()`,
      from: `${APISERVER}/ip_test.go TestIP ipv6 isGlobalUnicast true/false`,
    },
    { expr: `string(ip("192.168.0.1")) == "192.168.0.1"`, from: `${APISERVER}/ip_test.go TestIP converting an IP address to a string` },
    { expr: `!ip.isCanonical("2001:db8::0:0:0:abcd") && ip.isCanonical("2001:db8::abcd")`, from: `${APISERVER}/ip.go IP() examples` },
    { expr: `cidr("192.168.0.0/24") == cidr("192.168.0.0/24")`, from: `${APISERVER}/cidr_test.go TestCIDR parse ipv4` },
    {
      expr: `cidr("192.168.0.0/24").containsIP(ip("192.168.0.1")) && !cidr("192.168.0.0/24").containsIP(ip("192.168.1.1"))`,
      from: `${APISERVER}/cidr_test.go TestCIDR contains IP ipv4 (IP) / does not`,
    },
    {
      expr: `cidr("192.168.0.0/24").containsIP("192.168.0.1") && !cidr("192.168.0.0/24").containsIP("192.168.1.1")`,
      from: `${APISERVER}/cidr_test.go TestCIDR contains IP ipv4 (string) / does not`,
    },
    {
      expr: `cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/25")) && !cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/23"))`,
      from: `${APISERVER}/cidr_test.go TestCIDR contains CIDR ipv4 (CIDR) / does not`,
    },
    {
      expr: `cidr("192.168.0.0/24").containsCIDR("192.168.0.0/25") && !cidr("192.168.0.0/24").containsCIDR("192.168.0.0/23")`,
      from: `${APISERVER}/cidr_test.go TestCIDR contains CIDR ipv4 (string) / does not`,
    },
    { expr: `cidr("192.168.0.0/24").ip() == ip("192.168.0.0")`, from: `${APISERVER}/cidr_test.go TestCIDR returns IP ipv4` },
    {
      expr: `cidr("192.168.0.0/24").masked() == cidr("192.168.0.0/24") && cidr("192.168.0.1/24").masked() == cidr("192.168.0.0/24")`,
      from: `${APISERVER}/cidr_test.go TestCIDR masks masked / unmasked ipv4`,
    },
    { expr: `cidr("192.168.0.0/24").prefixLength() == 24`, from: `${APISERVER}/cidr_test.go TestCIDR returns prefix length ipv4` },
    {
      expr: `cidr("2001:db8::/32").containsIP(ip("2001:db8::1")) && !cidr("2001:db8::/32").containsIP(ip("2001:dc8::1"))`,
      from: `${APISERVER}/cidr_test.go TestCIDR contains IP ipv6 (IP) / does not`,
    },
    {
      expr: `cidr("2001:db8::/32").containsCIDR("2001:db8::/33") && !cidr("2001:db8::/32").containsCIDR("2001:db8::/31")`,
      from: `${APISERVER}/cidr_test.go TestCIDR contains CIDR ipv6 (string) / does not`,
    },
    {
      expr: `cidr("2001:db8:1::/32").masked() == cidr("2001:db8::/32") && cidr("2001:db8::/32").prefixLength() == 32`,
      from: `${APISERVER}/cidr_test.go TestCIDR masks unmasked ipv6, returns prefix length ipv6`,
    },
    { expr: `string(cidr("192.168.0.0/24")) == "192.168.0.0/24"`, from: `${APISERVER}/cidr_test.go TestCIDR converting a CIDR to a string` },
    { expr: `cidr("192.168.0.1/24") != cidr("192.168.0.1/24").masked()`, from: `${APISERVER}/cidr.go CIDR() examples` },
    { expr: `isCIDR("192.168.0.0/16") && isCIDR("::1/128") && !isCIDR("192.168.0.0/33") && !isCIDR("::1/129")`, from: `${APISERVER}/cidr.go CIDR() examples` },
  ]);
  failCases([
    {
      expr: `ip("192.168.0.1.0").family() == 4`,
      at: "eval",
      error: `IP Address "192.168.0.1.0" parse error during conversion from string: ParseAddr("192.168.0.1.0"): IPv4 address too long`,
      from: `${APISERVER}/ip_test.go TestIP parse invalid ipv4`,
    },
    {
      expr: `ip.isCanonical("127.0.0.1.0")`,
      at: "eval",
      error: `ParseAddr("127.0.0.1.0"): IPv4 address too long`,
      from: `${APISERVER}/ip_test.go TestIP ip.isCanonical invalid ipv4`,
    },
    {
      expr: `ip("2001:db8:::68").family() == 6`,
      at: "eval",
      error: `ParseAddr("2001:db8:::68"): each colon-separated field must have at least one digit (at ":68")`,
      from: `${APISERVER}/ip_test.go TestIP parse invalid ipv6`,
    },
    {
      expr: `isIP(cidr("192.168.0.0/24"))`,
      at: "compile",
      error: "no matching overload",
      from: `${APISERVER}/ip_test.go TestIP passing cidr into isIP returns compile error`,
    },
    {
      expr: `cidr(192168) == cidr("1.2.3.4/32")`,
      at: "compile",
      error: "no matching overload",
      from: `${APISERVER}/cidr_test.go TestCIDR compilation error for cidr(int)`,
    },
    {
      expr: `cidr("192.168.0.0/").prefixLength() == 0`,
      at: "eval",
      error: `network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("192.168.0.0/"): bad bits after slash: ""`,
      from: `${APISERVER}/cidr_test.go TestCIDR parse invalid ipv4`,
    },
    {
      expr: `cidr("2001:db8::/").prefixLength() == 0`,
      at: "eval",
      error: `netip.ParsePrefix("2001:db8::/"): bad bits after slash: ""`,
      from: `${APISERVER}/cidr_test.go TestCIDR parse invalid ipv6`,
    },
    {
      expr: `ip("::ffff:1.2.3.4").family() == 6`,
      at: "eval",
      error: "IPv4-mapped IPv6 address",
      from: `${APISERVER}/ip.go IP() (IPv4-mapped IPv6 addresses are not allowed)`,
    },
    { expr: `ip("fe80::1%eth0").family() == 6`, at: "eval", error: "with zone value is not allowed", from: `${APISERVER}/ip.go IP() (zones are not allowed)` },
    {
      expr: `ip("127.0.0.01").family() == 4`,
      at: "eval",
      error: "IPv4 field has octet with leading zero",
      from: `${APISERVER}/ip.go IP() (leading zeros are not allowed)`,
    },
  ]);
});

describe("device.allowMultipleAllocations", () => {
  const device = (allowMultipleAllocations?: boolean): ClusterFactsInput => ({
    name: "c",
    pools: [
      { name: "p", devices: [{ name: "d", driver: "dra.example.com", ...(allowMultipleAllocations === undefined ? {} : { allowMultipleAllocations }) }] },
    ],
  });
  it.each([
    { set: true, expr: "device.allowMultipleAllocations == true", from: `${DRA} allow_multiple_allocations` },
    { set: undefined, expr: "device.allowMultipleAllocations == false", from: `${DRA} allow_multiple_allocations_default` },
    { set: false, expr: "device.allowMultipleAllocations == false", from: `${DRA} allow_multiple_allocations_false` },
  ])("$expr with $set  ($from, adapted: cluster.devices.all)", ({ set, expr }) => {
    expect(run(`cluster.devices.all(device, ${expr})`, device(set))).toEqual({ value: true });
  });
});

describe("quantity and semver keep working", () => {
  const capacity: ClusterFactsInput = {
    name: "c",
    pools: [
      { name: "p", devices: [{ name: "d", driver: "dra.example.com", capacity: { name: { value: "1Mi" } }, attributes: { version: { version: "1.0.0" } } }] },
    ],
  };
  it.each([
    { expr: `device.capacity["dra.example.com"].name.isGreaterThan(quantity("1Ki"))`, from: `${DRA} quantity` },
    { expr: `device.attributes["dra.example.com"].version.isGreaterThan(semver("0.0.1"))`, from: `${DRA} version` },
    { expr: `device.attributes["dra.example.com"].version.isGreaterThan(semver("v0.0.1", true)) && isSemver("v1.0.0", true)`, from: `${DRA} version_v` },
  ])("$expr  ($from, adapted: cluster.devices.all)", ({ expr }) => {
    expect(run(`cluster.devices.all(device, ${expr})`, capacity)).toEqual({ value: true });
  });
});
