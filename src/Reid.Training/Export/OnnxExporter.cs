using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Onnx;
using Reid.Onnx.Proto;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Export;

/// <summary>How a model is written to ONNX, including the preprocessing it expects (stored as metadata).</summary>
public sealed record ExportOptions
{
    public int Height { get; init; } = 256;
    public int Width { get; init; } = 128;
    public string InputName { get; init; } = "images";
    public string OutputName { get; init; } = "embeddings";
    /// <summary>13 is enough for every op written here; ONNX Runtime 1.30 reads up to 21+.</summary>
    public int Opset { get; init; } = 17;
    public string GraphName { get; init; } = "reid";
    /// <summary>Channel order, scale and mean/std the model was trained with; null = RGB, /255, ImageNet mean/std.</summary>
    public Reid.Imaging.Preprocessing? Preprocessing { get; init; }
    /// <summary>Extra metadata_props (model card facts, training recipe); preprocessing keys are added by the exporter.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Writes any model built from the engine's layers to ONNX by tracing one evaluation-mode forward pass
/// (<see cref="OpTrace"/>) and translating each op to ONNX nodes. Parameters and buffers become initializers
/// under their dotted module names; BatchNormalization nodes are kept (not folded into convolutions) so an
/// export imports back into the same definition name for name. The batch dimension is dynamic ("batch").
/// </summary>
public static class OnnxExporter
{
    public static void Save(Module model, string path, ExportOptions? options = null)
    {
        var proto = Build(model, options ?? new ExportOptions());
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        File.WriteAllBytes(temp, Google.Protobuf.MessageExtensions.ToByteArray(proto));
        File.Move(temp, full, overwrite: true);
    }

    public static ModelProto Build(Module model, ExportOptions o)
    {
        var wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            using var scope = new TensorScope();
            using var noGrad = Tape.NoGrad();
            // Batch 2, so no size-1 axis is mistaken for the batch.
            var input = Tensor.Zeros(2, 3, o.Height, o.Width);
            using var trace = new OpTrace();
            var output = model.Forward(input);
            return new GraphWriter(model, o).Write(input, output, trace.Ops);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    private sealed class GraphWriter
    {
        private readonly ExportOptions _o;
        private readonly OnnxGraphBuilder _b;
        private readonly Dictionary<Tensor, string> _names = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<Tensor> _state = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<string> _written = new(StringComparer.Ordinal);
        private int _next;

        public GraphWriter(Module model, ExportOptions o)
        {
            _o = o;
            _b = new OnnxGraphBuilder(o.GraphName, o.Opset, "reid (Reid.Training)");
            foreach (var (name, p) in model.NamedParameters()) { _names[p] = name; _state.Add(p); }
            foreach (var (name, t) in model.NamedBuffers()) { _names[t] = name; _state.Add(t); }
        }

        public ModelProto Write(Tensor input, Tensor output, IReadOnlyList<TracedOp> ops)
        {
            _names[input] = _o.InputName;
            _b.Input(_o.InputName, TensorElementType.Float, "batch", 3, _o.Height, _o.Width);
            if (ops.Count == 0) throw new ReidException("export: the model ran no operations");
            foreach (var op in ops) Emit(op);
            if (!_names.TryGetValue(output, out var last) || _state.Contains(output) || ReferenceEquals(output, input))
                throw new ReidException("export: the model's output was not produced by a traced operation");
            _b.Node("Identity", [last], [_o.OutputName], "output");
            var dims = new List<Dim> { "batch" };
            for (int i = 1; i < output.Rank; i++) dims.Add(output.Dim(i));
            _b.Output(_o.OutputName, TensorElementType.Float, [.. dims]);
            foreach (var (k, v) in ExportPreprocessing.Metadata(_o)) _b.Metadata(k, v);
            foreach (var (k, v) in _o.Metadata) _b.Metadata(k, v);
            return _b.Model;
        }

        private string NameOf(Tensor t)
        {
            if (_names.TryGetValue(t, out var n))
            {
                if (_state.Contains(t) && _written.Add(n)) _b.Initializer(n, t.Data, Dims(t));
                return n;
            }
            // Not produced by a traced op and not owned by the model: a constant made inside Forward.
            n = $"const_{_next++}";
            _names[t] = n;
            _b.Initializer(n, t.Data, Dims(t));
            return n;
        }

        private static long[] Dims(Tensor t) => t.ShapeArray().Select(d => (long)d).ToArray();

        private string Int64Constant(long[] values)
        {
            var name = $"const_{_next++}";
            _b.Initializer(name, values, values.Length);
            return name;
        }

        private string FloatConstant(float value)
        {
            var name = $"const_{_next++}";
            _b.Initializer(name, [value]);
            return name;
        }

        private string Fresh() => $"t_{_next++}";

        private void Emit(TracedOp op)
        {
            var x = op.Inputs.Select(NameOf).ToList();
            var y = Fresh();
            _names[op.Output] = y;
            var a = op.Attributes;
            switch (op.Op)
            {
                case "Conv":
                    _b.Node("Conv", x, [y]).Attr("kernel_shape", Ints(a, "kernel_shape")).Attr("strides", Ints(a, "strides"))
                        .Attr("pads", Ints(a, "pads")).Attr("dilations", Ints(a, "dilations")).Attr("group", Int(a, "group"));
                    break;
                case "BatchNormalization":
                    _b.Node("BatchNormalization", x, [y]).Attr("epsilon", Float(a, "epsilon"));
                    break;
                case "Gemm":
                    _b.Node("Gemm", x, [y]).Attr("transB", 1L);
                    break;
                case "MatMul":
                    if (a.TryGetValue("transB", out var tb) && Convert.ToInt64(tb is bool bb ? (bb ? 1 : 0) : tb) != 0)
                    {
                        var transposed = Fresh();
                        _b.Node("Transpose", [x[1]], [transposed]).Attr("perm", 1L, 0L);
                        x[1] = transposed;
                    }
                    _b.Node("MatMul", x, [y]);
                    break;
                case "Relu" or "Sigmoid" or "HardSwish" or "GlobalAveragePool" or "Add" or "Sub" or "Mul":
                    _b.Node(op.Op, x, [y]);
                    break;
                case "Clip":
                    _b.Node("Clip", [x[0], FloatConstant(Float(a, "min")), FloatConstant(Float(a, "max"))], [y]);
                    break;
                case "LeakyRelu":
                    _b.Node("LeakyRelu", x, [y]).Attr("alpha", Float(a, "alpha"));
                    break;
                case "MaxPool":
                    _b.Node("MaxPool", x, [y]).Attr("kernel_shape", Ints(a, "kernel_shape")).Attr("strides", Ints(a, "strides"))
                        .Attr("pads", Ints(a, "pads"));
                    break;
                case "AveragePool":
                    _b.Node("AveragePool", x, [y]).Attr("kernel_shape", Ints(a, "kernel_shape")).Attr("strides", Ints(a, "strides"))
                        .Attr("pads", Ints(a, "pads")).Attr("count_include_pad", Int(a, "count_include_pad"));
                    break;
                case "GeM":
                {
                    // GeM(x) = (mean over H,W of clip(x, eps)^p)^(1/p), written with core ops.
                    string clipped = Fresh(), powered = Fresh(), pooled = Fresh(), inverse = Fresh();
                    _b.Node("Clip", [x[0], FloatConstant(Float(a, "eps")), ""], [clipped]);
                    _b.Node("Pow", [clipped, x[1]], [powered]);
                    _b.Node("GlobalAveragePool", [powered], [pooled]);
                    _b.Node("Reciprocal", [x[1]], [inverse]);
                    _b.Node("Pow", [pooled, inverse], [y]);
                    break;
                }
                case "Dropout":
                    _b.Node("Identity", [x[0]], [y]);   // evaluation mode
                    break;
                case "Concat":
                    _b.Node("Concat", x, [y]).Attr("axis", Int(a, "axis"));
                    break;
                case "Slice":
                    _b.Node("Slice", [x[0], Int64Constant([Int(a, "start")]), Int64Constant([Int(a, "end")]), Int64Constant([Int(a, "axis")])], [y]);
                    break;
                case "Flatten":
                    _b.Node("Flatten", [x[0]], [y]).Attr("axis", Int(a, "axis"));
                    break;
                case "Reshape":
                {
                    if (op.Inputs[0].Dim(0) != op.Output.Dim(0))
                        throw new ReidException($"export: Reshape {op.Inputs[0].Describe()} → {op.Output.Describe()} mixes the batch axis; it cannot have a dynamic batch");
                    var shape = op.Output.ShapeArray().Select(d => (long)d).ToArray();
                    shape[0] = 0;   // ONNX: 0 copies the input's (dynamic) batch size
                    _b.Node("Reshape", [x[0], Int64Constant(shape)], [y]);
                    break;
                }
                case "LpNormalization":
                    _b.Node("LpNormalization", [x[0]], [y]).Attr("axis", -1L).Attr("p", 2L);
                    break;
                case "Softmax" or "LogSoftmax":
                    _b.Node(op.Op, [x[0]], [y]).Attr("axis", -1L);
                    break;
                default:
                    throw new ReidException($"export: op '{op.Op}' has no ONNX translation (output {op.Output.Describe()})");
            }
        }

        private static object Get(IReadOnlyDictionary<string, object> a, string key) =>
            a.TryGetValue(key, out var v) ? v : throw new ReidException($"export: traced op lacks attribute '{key}'");

        private static long[] Ints(IReadOnlyDictionary<string, object> a, string key) => Get(a, key) switch
        {
            int[] i => i.Select(v => (long)v).ToArray(),
            long[] l => l,
            IEnumerable<int> e => e.Select(v => (long)v).ToArray(),
            var v => throw new ReidException($"export: attribute '{key}' = {v} is not a list of integers"),
        };

        private static long Int(IReadOnlyDictionary<string, object> a, string key) => Get(a, key) switch
        {
            bool b => b ? 1 : 0,
            var v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture),
        };

        private static float Float(IReadOnlyDictionary<string, object> a, string key) =>
            Convert.ToSingle(Get(a, key), System.Globalization.CultureInfo.InvariantCulture);
    }
}
