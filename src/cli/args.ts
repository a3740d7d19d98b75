import { UsageError } from "./usageError.js";

export type CommandName = "inventory" | "scan" | "validate" | "plan" | "rotate" | "verify" | "runs" | "history" | "setup-roles" | "help";

export interface ParsedArgs {
  command: CommandName;
  /** Options by long name without dashes; `true` for a switch. */
  options: ReadonlyMap<string, string | true>;
}

interface OptionSpec {
  takesValue: boolean;
  commands: readonly CommandName[];
  /** May be given more than once; the values are joined with commas (and may be comma lists themselves). */
  repeatable?: boolean;
}

const SETTINGS_COMMANDS: readonly CommandName[] = ["inventory", "scan", "validate", "plan", "rotate", "verify", "runs", "history", "setup-roles"];

export const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { takesValue: false, commands: ["inventory", "plan", "rotate", "verify", "runs", "history"] },
  emit: { takesValue: false, commands: ["scan"] },
  limit: { takesValue: true, commands: ["history"] },
  at: { takesValue: true, commands: ["history"] },
  out: { takesValue: true, commands: ["inventory", "scan"] },
  key: { takesValue: true, commands: ["plan", "rotate", "verify"], repeatable: true },
  "dry-run": { takesValue: false, commands: ["rotate", "setup-roles"] },
  yes: { takesValue: false, commands: ["rotate", "setup-roles"] },
  principal: { takesValue: true, commands: ["setup-roles"] },
  id: { takesValue: true, commands: ["runs"] },
  format: { takesValue: true, commands: ["scan"] },
  "fail-on": { takesValue: true, commands: ["scan"] },
  "min-severity": { takesValue: true, commands: ["scan"] },
  snapshot: { takesValue: true, commands: ["scan", "plan", "verify"] },
  policy: { takesValue: true, commands: SETTINGS_COMMANDS },
  cloud: { takesValue: true, commands: SETTINGS_COMMANDS },
  "arm-endpoint": { takesValue: true, commands: SETTINGS_COMMANDS },
  "emulator-endpoint": { takesValue: true, commands: SETTINGS_COMMANDS },
  "emulator-ca": { takesValue: true, commands: SETTINGS_COMMANDS },
  "emulator-principal-id": { takesValue: true, commands: SETTINGS_COMMANDS },
};

const COMMANDS: readonly CommandName[] = ["inventory", "scan", "validate", "plan", "rotate", "verify", "runs", "history", "setup-roles", "help"];

/**
 * A deliberately small parser: `<command> [--name value | --name=value | --switch]...`. Anything it does not
 * know is an error naming the offending word; `--help`/`-h` anywhere asks for help.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  if (argv.some((arg) => arg === "--help" || arg === "-h")) return { command: "help", options: new Map() };
  const [commandWord, ...rest] = argv;
  if (commandWord === undefined) throw new UsageError("no command given");
  if (commandWord.startsWith("-")) throw new UsageError(`expected a command before the option "${commandWord}"`);
  const command = COMMANDS.find((name) => name === commandWord);
  if (command === undefined) throw new UsageError(`unknown command "${commandWord}"`);

  const options = new Map<string, string | true>();
  for (let index = 0; index < rest.length; index++) {
    const word = rest[index] ?? "";
    if (!word.startsWith("--") || word === "--") throw new UsageError(`unexpected argument "${word}"`);
    const equals = word.indexOf("=");
    const name = word.slice(2, equals < 0 ? undefined : equals);
    const spec = OPTIONS[name];
    if (spec === undefined) throw new UsageError(`unknown option "--${name}"`);
    if (!spec.commands.includes(command)) throw new UsageError(`option "--${name}" does not apply to "${command}"`);
    if (options.has(name) && spec.repeatable !== true) throw new UsageError(`option "--${name}" is given more than once`);

    if (!spec.takesValue) {
      if (equals >= 0) throw new UsageError(`option "--${name}" does not take a value`);
      options.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (equals >= 0) {
      value = word.slice(equals + 1);
    } else {
      value = rest[index + 1];
      if (value !== undefined && !value.startsWith("--")) index++;
      else value = undefined;
    }
    if (value === undefined || value === "") throw new UsageError(`option "--${name}" needs a value`);
    const earlier = options.get(name);
    options.set(name, typeof earlier === "string" ? `${earlier},${value}` : value);
  }
  return { command, options };
}
