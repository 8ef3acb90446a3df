// A breach of the tenancy policy, as a value: the spec field, the Input
// knob that forbids it, and what is wrong, so the tenant knows what to change
// and the platform engineer which rule said no.
export interface Issue {
  /** The spec field, e.g. spec.storage.existingPVC.namespace. */
  field: string;
  /** The Input knob, e.g. tenancy.existingPVC.grants. */
  rule: string;
  message: string;
}

/** At most this many issues are spelled out; the rest are counted. */
export const MAX_LISTED = 10;

export function describeIssue(i: Issue): string {
  return `${i.field}: ${i.message} (tenancy policy: input.${i.rule})`;
}

export function describeIssues(issues: readonly Issue[]): string {
  const listed = issues.slice(0, MAX_LISTED).map(describeIssue);
  if (issues.length > MAX_LISTED) listed.push(`and ${issues.length - MAX_LISTED} more`);
  return listed.join("; ");
}
