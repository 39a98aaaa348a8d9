using System.Diagnostics;
using Reid.Onnx;

namespace Reid.Foundation.Tests.Cli;

/// <summary>Runs the built `reid` CLI (reid.dll beside the tests) as a separate process, as a user would.</summary>
internal static class ReidProcess
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    public static Outcome Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "reid.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException($"reid {string.Join(' ', args)}"); }
        return new Outcome(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// A tiny real ONNX ReID "model": global average pooling of the normalised 256x128 input, so an image's
    /// embedding is its mean colour. Dynamic batch, like exported ReID models.
    /// </summary>
    public static string WriteMeanColourModel(string path)
    {
        var b = new OnnxGraphBuilder("mean_colour");
        b.Input("input", TensorElementType.Float, "batch", 3, 256, 128);
        b.Node("GlobalAveragePool", ["input"], ["pooled"]);
        b.Node("Flatten", ["pooled"], ["embedding"]).Attr("axis", 1L);
        b.Output("embedding", TensorElementType.Float, "batch", 3);
        b.Save(path);
        return path;
    }
}
