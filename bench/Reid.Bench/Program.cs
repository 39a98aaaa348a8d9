using BenchmarkDotNet.Running;

// BenchmarkDotNet micro-benchmarks: `dotnet run -c Release --project bench/Reid.Bench -- --filter '*'`.
// Whole-pipeline benchmarks (training, embedding throughput, load tests) are `reid bench …` commands instead.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
