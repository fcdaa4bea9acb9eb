// Concrete IAM decisions from @cloud-copilot/iam-simulate, one JSON line per request.
//
// Input, one JSON object per line on stdin:
//   {"policy": <identity policy document>,
//    "request": {"principal": "arn:...", "action": "s3:GetObject",
//                "resource": "arn:aws:s3:::bucket/key",
//                "context": {"aws:SourceIp": "10.0.0.1", "aws:TagKeys": ["a", "b"]}},
//    "resourcePolicy": <optional resource-based policy document of the resource>,
//    "id": <optional, echoed back>}
// Output, one JSON line per non-blank input line, in input order:
//   {"decision": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | null, "error": null | "<message>"}
//
// The policy is the only identity policy of the request. There are no SCPs,
// RCPs or permission boundaries, and no resource policy unless the input
// gives one. The library models services whose resources need their own
// policy to grant access: without a resource policy it denies requests on KMS
// keys, as AWS does. A caller that wants the identity policy's own decision
// for such resources passes a resource policy that allows the account
// (`arn:aws:iam::111122223333:root`), like the default KMS key policy.
//
// The library's unsafe entry point (runUnsafeSimulation) is
// used: it skips policy validation and the checks of actions, ARNs and
// context keys against AWS service data, so lowercase action names, made-up
// services and synthetic condition values are evaluated as given.
//
// Each response is written as soon as its line is read, so a caller may drive
// the process one request at a time over a pipe.

import { createInterface } from 'node:readline'

// iam-simulate 0.1.173 reads an ISO date-time without an offset in host-local
// time. iamverify reads such dates as UTC, so the time zone is fixed before
// the library is loaded.
process.env.TZ = 'UTC'
const { runUnsafeSimulation } = await import('@cloud-copilot/iam-simulate')
const { createValidatedPolicy } = await import('@cloud-copilot/iam-policy')

const DEFAULT_PRINCIPAL = 'arn:aws:iam::111122223333:user/tester'
const RESOURCE_ACCOUNT = '111122223333'

class InputError extends Error {}

function requireString(value, name, { allowEmpty = false } = {}) {
  if (typeof value !== 'string' || (value === '' && !allowEmpty)) {
    const expected = allowEmpty ? 'a string' : 'a non-empty string'
    throw new InputError(`${name} must be ${expected}, found ${JSON.stringify(value)}`)
  }
  return value
}

// Context values must be strings or lists of strings. Numbers and booleans
// are converted to their JSON text. A list makes the key multivalued.
function toContextValue(key, value) {
  if (Array.isArray(value)) {
    return value.map((element) => toContextScalar(key, element))
  }
  return toContextScalar(key, value)
}

function toContextScalar(key, value) {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw new InputError(`context value of ${key} must be a string, number, boolean or a list of them, found ${JSON.stringify(value)}`)
}

function buildSimulation(input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InputError('each line must be a JSON object with "policy" and "request"')
  }
  const { policy, request } = input
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) {
    throw new InputError('"policy" must be a policy document (a JSON object)')
  }
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new InputError('"request" must be a JSON object with "action" and "resource"')
  }

  const context = request.context ?? {}
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    throw new InputError('"request.context" must be a JSON object that maps condition keys to values')
  }
  const contextVariables = {}
  for (const [key, value] of Object.entries(context)) {
    contextVariables[key] = toContextValue(key, value)
  }

  const simulation = {
    identityPolicies: [{ name: 'policy', policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      principal: request.principal == null ? DEFAULT_PRINCIPAL : requireString(request.principal, 'request.principal'),
      action: requireString(request.action, 'request.action'),
      resource: {
        // An empty resource is passed on, because a solver may choose one
        // when the policies constrain the resource only with `*`.
        resource: requireString(request.resource, 'request.resource', { allowEmpty: true }),
        accountId: RESOURCE_ACCOUNT,
      },
      contextVariables,
    },
  }

  const { resourcePolicy } = input
  if (resourcePolicy != null) {
    if (typeof resourcePolicy !== 'object' || Array.isArray(resourcePolicy)) {
      throw new InputError('"resourcePolicy" must be a policy document (a JSON object)')
    }
    // runUnsafeSimulation 0.1.173 loads a plain resource policy without a
    // name and then fails reading that name. A policy wrapped with a name and
    // no validation errors is loaded as it is, with the name.
    simulation.resourcePolicy = createValidatedPolicy(resourcePolicy, () => [], { name: 'resource-policy' })
  }
  return simulation
}

function decide(line) {
  let input
  try {
    input = JSON.parse(line)
  } catch (error) {
    return { decision: null, error: `invalid input: not JSON: ${error.message}` }
  }

  const response = { decision: null, error: null }
  if (input !== null && typeof input === 'object' && 'id' in input) response.id = input.id

  let simulation
  try {
    simulation = buildSimulation(input)
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    response.error = `invalid input: ${error.message}`
    return response
  }

  try {
    response.decision = runUnsafeSimulation(simulation, { simulationMode: 'Strict' })
  } catch (error) {
    response.error = `iam-simulate failed: ${error?.stack?.split('\n')[0] ?? String(error)}`
  }
  return response
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (line.trim() === '') continue
  process.stdout.write(JSON.stringify(decide(line)) + '\n')
}
