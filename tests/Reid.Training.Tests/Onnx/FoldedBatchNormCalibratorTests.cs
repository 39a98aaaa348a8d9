using Reid.Core;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Imaging;
using Reid.TestSupport;
using Reid.Training.Backbones;
using Reid.Training.Import;

namespace Reid.Training.Tests.Onnx;

public class FoldedBatchNormCalibratorTests
{
    private static float[] Forward(Module m, Tensor x)
    {
        using var scope = new TensorScope();
        using var noGrad = Reid.Engine.Autograd.Tape.NoGrad();
        return m.Forward(x).ToArray();
    }

    /// <summary>Training-mode forward without the running-statistics update it makes (so the import stays an identity).</summary>
    private static float[] TrainForwardKeepingBuffers(Module m, Tensor x)
    {
        var saved = m.NamedBuffers().Select(b => (b.Buffer, b.Buffer.ToArray())).ToList();
        m.Train();
        var y = Forward(m, x);
        foreach (var (buffer, values) in saved) values.CopyTo(buffer.Data);
        return y;
    }

    private static double MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();
    private static double MaxAbs(float[] a) => a.Max(v => (double)Math.Abs(v));

    /// <summary>A conv whose BN was folded away: conv weight plus an identity BN carrying the bias, as the importer leaves it.</summary>
    private static (Sequential Net, BatchNorm2d Bn) FoldedPair()
    {
        var rng = new Rng(7);
        var conv = new Conv2d(3, 8, 3, padding: 1, bias: false, rng: rng);
        var bn = new BatchNorm2d(8);
        var w = conv.Weight.Data;
        for (var i = 0; i < w.Length; i++) w[i] = 2f * w[i] + 0.05f;   // outputs far from zero mean / unit variance
        for (var c = 0; c < 8; c++) { bn.Bias.Data[c] = 0.1f * c; bn.RunningVar.Data[c] = 1f - bn.Eps; }
        return (new Sequential(conv, bn), bn);
    }

    [Fact]
    public void Calibration_keeps_evaluation_output_and_makes_training_mode_agree_with_it()
    {
        var (net, bn) = FoldedPair();
        using var x = Tensor.RandomNormal(new Rng(3), 0.5f, 2f, 16, 3, 12, 10);
        net.Eval();
        var before = Forward(net, x);
        var trainBefore = TrainForwardKeepingBuffers(net, x);
        // Without calibration, training mode renormalises by the batch's statistics: a different function.
        Assert.True(MaxAbsDiff(before, trainBefore) > 0.1 * MaxAbs(before));

        FoldedBatchNormCalibrator.Calibrate(net, [bn], [x.Detach()]);
        Assert.True(net.IsTraining);   // the model's mode is restored
        net.Eval();
        var after = Forward(net, x);
        Assert.True(MaxAbsDiff(before, after) < 1e-4 * MaxAbs(before));
        net.Train();
        var trainAfter = Forward(net, x);
        Assert.True(MaxAbsDiff(before, trainAfter) < 1e-3 * MaxAbs(before));
    }

    [Fact]
    public void A_batch_norm_that_was_not_folded_is_refused_and_nothing_changes()
    {
        var (net, bn) = FoldedPair();
        bn.Weight.Data[2] = 1.5f;
        var gamma = bn.Weight.ToArray();
        using var x = Tensor.RandomNormal(new Rng(3), 0f, 1f, 4, 3, 8, 8);
        var e = Assert.Throws<ReidException>(() => FoldedBatchNormCalibrator.Calibrate(net, [bn], [x.Detach()]));
        Assert.Contains("not an identity", e.Message);
        Assert.Equal(gamma, bn.Weight.ToArray());
    }

    [SharedFact]
    public void Shared_osnet_fine_tunes_from_its_own_function_after_calibration()
    {
        var net = new OSNet(0.25);
        var report = OnnxWeightImporter.Import(SharedData.OsnetMsmt17, net);
        var pre = Imaging.Preprocessing.ImageNet(256, 128);
        var files = Directory.GetFiles(SharedData.Market1501Train, "*.jpg").Order(StringComparer.Ordinal).Take(32).ToArray();
        var buffer = new float[files.Length * pre.TensorLength];
        for (var i = 0; i < files.Length; i++) pre.Apply(ImageCodec.Decode(files[i]), buffer.AsSpan(i * pre.TensorLength, pre.TensorLength));
        using var x = Tensor.FromArray(buffer, files.Length, 3, 256, 128);

        net.Eval();
        var reference = Forward(net, x);
        var uncalibrated = TrainForwardKeepingBuffers(net, x);
        FoldedBatchNormCalibrator.Calibrate(net, report.FoldedLayers, [x.Detach()]);
        net.Eval();
        var evalAfter = Forward(net, x);
        net.Train();
        // fc's BatchNorm1d was never folded (it has MSMT17 statistics); on 32 Market images its batch statistics
        // differ, as any real BN's would. Keep it in evaluation mode to look at the folded layers alone.
        foreach (var m in net.NamedModules().Select(m => m.Module).OfType<BatchNorm1d>()) m.Eval();
        var trainAfter = Forward(net, x);

        double Cosine(float[] a, float[] b, int row)
        {
            const int d = 512;
            double ab = 0, aa = 0, bb = 0;
            for (var k = row * d; k < (row + 1) * d; k++) { ab += a[k] * b[k]; aa += a[k] * a[k]; bb += b[k] * b[k]; }
            return ab / Math.Sqrt(aa * bb + 1e-30);
        }
        var rows = Enumerable.Range(0, files.Length).ToArray();
        var (evalCos, trainCos, rawCos) = (rows.Min(r => Cosine(reference, evalAfter, r)), rows.Min(r => Cosine(reference, trainAfter, r)),
            rows.Average(r => Cosine(reference, uncalibrated, r)));
        var facts = $"eval {evalCos:F5}, train {trainCos:F5}, uncalibrated train {rawCos:F5}";
        Assert.True(evalCos > 0.9999, facts);
        Assert.True(trainCos > 0.99, facts);
        // The failure this guards against: training mode on the raw import is a different embedding.
        Assert.True(rawCos < 0.9, facts);
    }
}
