// The daemon's JSON-RPC protocol as the extension uses it. The types, method names and error codes are generated
// from the daemon's C# records (src/CnnInterpret.Daemon/Protocol.cs) into protocol.generated.ts by `npm run protocol`
// at the repository root; change the C#, never the generated file. Written by hand here: only what is the client's
// own, not the protocol's.
export * from "./protocol.generated";
import type { MethodOptionValue } from "./protocol.generated";

/** A registry method's options by name, as explain/attribution, explain/metrics and explain/sanity take them. */
export type MethodOptionValues = Record<string, MethodOptionValue>;
