using BenchmarkDotNet.Running;

// BenchmarkDotNet micro-benchmarks: `dotnet run -c Release --project bench/Reid.Bench -- --filter '*'`.
// Whole-pipeline benchmarks (training, embedding throughput) are `reid bench …` commands instead; the HTTP load
// test is bench/Reid.LoadTest.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
