using System.CommandLine;
using Reid.Cli;

// The `reid` command line. Each capability adds its commands in Commands/*.cs; this file only lists them.
var root = new RootCommand("reid: person re-identification — train, evaluate, enrol, verify, identify, track");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return CliRunner.Run(root, args);
