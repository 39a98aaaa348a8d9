using System.CommandLine;
using Reid.Core;
using Reid.Engine.Tensors;

namespace Reid.Cli.Commands;

/// <summary>
/// `reid info`: where the project finds its files (repo root, shared data) and what this CPU gives the training
/// engine (oneDNN's ISA, bf16 or not, what `precision: auto` becomes); handy when set-up or training fails.
/// </summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var json = new Option<string?>("--json") { Description = "Also write the facts as JSON to this file" };
        var command = new Command("info", "Show where reid finds its repository, models and shared data, and what this CPU supports") { json };
        command.SetAction(parse =>
        {
            Console.WriteLine($"repo root : {ProjectPaths.RepoRoot ?? "(not in a checkout)"}");
            Console.WriteLine($"models    : {ProjectPaths.ModelsDir ?? "-"}");
            Console.WriteLine($"shared    : {ProjectPaths.SharedDir ?? "(absent)"}");
            var cpu = CpuCapabilities.Current;
            var (_, auto) = cpu.Resolve(PrecisionSetting.Auto);
            Console.WriteLine($"cpu       : {cpu.CpuModel} ({cpu.LogicalCpus} logical CPUs)");
            Console.WriteLine($"oneDNN    : {cpu.OneDnnVersion}, ISA {cpu.Isa}");
            Console.WriteLine($"bf16      : {(cpu.Bf16 ? "yes" : "no")} (bf16 convolution kernel: {cpu.Bf16Kernel ?? "none"})");
            Console.WriteLine($"training  : {auto}");
            GalleryCommand.WriteJson(parse.GetValue(json), new
            {
                repo_root = ProjectPaths.RepoRoot, models = ProjectPaths.ModelsDir, shared = ProjectPaths.SharedDir,
                cpu_model = cpu.CpuModel, logical_cpus = cpu.LogicalCpus, onednn_version = cpu.OneDnnVersion, onednn_isa = cpu.Isa,
                bf16 = cpu.Bf16, bf16_kernel = cpu.Bf16Kernel, precision_auto = auto,
            });
            return CliRunner.Ok;
        });
        return command;
    }
}
