export const USAGE = `Usage: keywarden <command> [options]

Commands:
  inventory   Collect the estate snapshot (Managed HSMs, keys, roles, consumers) and print it
  scan        Collect the snapshot, run every compliance control over it and print the report
  validate    Check the app settings and the policy document, print a summary, and exit
  plan        Collect the snapshot and print the rotation plan: what is due, and each step that moves a consumer
  rotate      Plan, then execute: rotate what is due, move every consumer, verify each one (asks first on a terminal)
  verify      Read every consumer of every managed key back: moved, pending (with its deadline), blocked or failed
  runs        List rotation runs, or print one run's journal (--id)
  history     List the stored scans (the evidence history), newest first, with what changed in each
  setup-roles Give KeyWarden's identity exactly its Managed HSM roles on every HSM in the policy, then verify
              them (run as a Managed HSM Administrator; asks first on a terminal; never deletes); says whether
              each HSM's audit workspace needs Log Analytics Reader (an ARM role: infra/targets.json assigns it)
  help        Show this help

Options (inventory, scan, validate, plan, rotate, verify, runs, history, setup-roles):
  --policy <file>                Policy document (KEYWARDEN_POLICY_FILE)
  --cloud <name>                 AzurePublicCloud | AzureChinaCloud | AzureUSGovernment | Custom | Emulator
  --arm-endpoint <url>           ARM endpoint (KEYWARDEN_ARM_ENDPOINT)
  --emulator-endpoint <url>      Talk to the local emulator at <url> (implies --cloud Emulator)
  --emulator-ca <file>           PEM of the emulator's CA (KEYWARDEN_EMULATOR_CA_FILE)
  --emulator-principal-id <id>   Object id the emulator's token carries (KEYWARDEN_EMULATOR_PRINCIPAL_ID)

Options (inventory):
  --json                         Print the snapshot as JSON instead of tables
  --out <file>                   Also write the snapshot as JSON to <file>

Options (scan):
  --format <format>              json | md | html | sarif | csv (default md)
  --out <file>                   Write the report to <file> and print only a summary
  --min-severity <severity>      Show only results at or above critical | high | medium | low | info (default info);
                                 the summary and --fail-on still judge every result
  --snapshot <file>              Judge a snapshot written by "inventory --out" instead of collecting one
  --fail-on <severity>           Exit 3 when a FAIL or UNKNOWN result at or above <severity> exists
                                 (to gate a pipeline; data that could not be read does not pass a gate)
  --emit                         Store the scan in the history (the state store) and send what changed since
                                 the scan before to Azure Monitor (KEYWARDEN_MONITOR_*), as the timer does;
                                 not with --snapshot (the history holds only scans collected for it)

Options (plan, rotate, verify):
  --key <name>                   Only this managed key (repeat, or give a comma list)
  --json                         Print JSON for machines instead of text
  --snapshot <file>              (plan, verify) Judge a snapshot written by "inventory --out" instead of collecting one

Options (rotate):
  --dry-run                      Fresh reads and preconditions only: no write to Azure or to the state store
  --yes                          Do not ask for confirmation (needed when not on a terminal)

Options (setup-roles):
  --principal <object id>        KeyWarden's managed identity object id (KEYWARDEN_PRINCIPAL_ID; the template's
                                 principalId output)
  --dry-run                      Read and print the plan only: no write
  --yes                          Do not ask for confirmation (needed when not on a terminal)

Options (runs):
  --id <run id>                  Print that run's journal
  --json                         Print JSON

Options (history):
  --limit <n>                    The newest <n> scans (default 20)
  --at <time>                    Only the scan in force at <time> (2026-11-30 = the end of that day, UTC, or an
                                 ISO date-time with a zone), with its open findings and when each was first seen
  --json                         Print JSON

Other settings come from KEYWARDEN_* environment variables; options override them.
Exit codes: 0 done, 1 failed, 2 invalid command line or configuration, 3 findings at or above --fail-on,
4 a consumer is blocked (its identity cannot use the key) or pending past its deadline.
`;
