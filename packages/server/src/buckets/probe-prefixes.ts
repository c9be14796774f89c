/**
 * Where probe objects go: doctor's round trips, and setup's and doctor's storage-class probes (the admin
 * policy grants these). Apart from probe.ts so that the policy and the sweeper name them without loading the AWS SDK.
 */
export const DOCTOR_PREFIX = 'upfront-doctor/';
export const PROBE_PREFIX = 'upfront-probe/';
export const PROBE_PREFIXES = [DOCTOR_PREFIX, PROBE_PREFIX];
