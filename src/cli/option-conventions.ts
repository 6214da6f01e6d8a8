import { Option, type Command } from "commander";

// One vocabulary across commands: a file target is --out, a folder target --out-dir, a
// parameter has the spec key's name everywhere. Old spellings stay for one release as hidden
// aliases that print a deprecation note; required options say so in the help.

const REQUIRED = "(required) ";

/**
 * Adds `option`, plus hidden `aliases` (old spellings, e.g. "--output <dir>") that set the same
 * value. `required` is checked after the aliases are folded in, with commander's own message.
 */
export function addOptionWithAliases(command: Command, option: Option, aliases: string[], { required = false } = {}): Command {
  if (required) option.description = `${REQUIRED}${option.description}`;
  command.addOption(option);
  const old = aliases.map((flags) => {
    const alias = new Option(flags).hideHelp();
    // The old spelling parses its value as the new one does (numbers stay numbers).
    if (option.parseArg) alias.argParser(option.parseArg);
    return alias;
  });
  for (const alias of old) command.addOption(alias);
  // Hidden from the option list, not from the reader: the old spellings are named below it.
  if (old.length > 0) command.addHelpText("after", `Deprecated spelling, accepted for one more release: ${old.map((alias) => `${alias.long} (now ${option.long})`).join(", ")}`);
  command.hook("preAction", (_hooked, action) => {
    if (action !== command) return;
    for (const alias of old) {
      const value = command.getOptionValue(alias.attributeName());
      if (value === undefined) continue;
      process.stderr.write(`train: note: ${alias.long} is deprecated and goes in the next release: use ${option.long}\n`);
      if (command.getOptionValue(option.attributeName()) === undefined) command.setOptionValue(option.attributeName(), value);
    }
    if (required && command.getOptionValue(option.attributeName()) === undefined) command.error(`error: required option '${option.flags}' not specified`, { code: "commander.missingMandatoryOptionValue" });
  });
  return command;
}

/** Every mandatory option of every command says "(required)" in its help line. */
export function markRequiredOptions(command: Command): void {
  for (const option of command.options) {
    if (option.mandatory && !option.description.startsWith(REQUIRED)) option.description = `${REQUIRED}${option.description}`;
  }
  for (const sub of command.commands) markRequiredOptions(sub);
}

/** A deprecated command kept for one release: a note on stderr, then the replacement's work. */
export function deprecatedCommandNote(old: string, replacement: string): void {
  process.stderr.write(`train: note: \`${old}\` is deprecated and goes in the next release: use \`${replacement}\`\n`);
}
