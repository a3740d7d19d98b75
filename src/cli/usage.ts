export const USAGE = `Usage: keywarden <command> [options]

Commands:
  inventory   Collect the estate snapshot (Managed HSMs, keys, roles, consumers) and print it
  validate    Check the app settings and the policy document, print a summary, and exit
  help        Show this help

Options (inventory, validate):
  --policy <file>                Policy document (KEYWARDEN_POLICY_FILE)
  --cloud <name>                 AzurePublicCloud | AzureChinaCloud | AzureUSGovernment | Custom | Emulator
  --arm-endpoint <url>           ARM endpoint (KEYWARDEN_ARM_ENDPOINT)
  --emulator-endpoint <url>      Talk to the local emulator at <url> (implies --cloud Emulator)
  --emulator-ca <file>           PEM of the emulator's CA (KEYWARDEN_EMULATOR_CA_FILE)
  --emulator-principal-id <id>   Object id the emulator's token carries (KEYWARDEN_EMULATOR_PRINCIPAL_ID)

Options (inventory):
  --json                         Print the snapshot as JSON instead of tables
  --out <file>                   Also write the snapshot as JSON to <file>

Other settings come from KEYWARDEN_* environment variables; options override them.
Exit codes: 0 done, 1 failed, 2 invalid command line or configuration.
`;
