using Reid.Cli;

// The `reid` command line. Each capability adds its commands in Commands/*.cs and CommandCatalog lists them;
// CliRunner runs them here on the console, or in a test's process with captured output.
return CliRunner.Run(args);
