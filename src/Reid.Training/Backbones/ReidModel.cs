using Reid.Core;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Training.Backbones;

/// <summary>Global pooling of the last feature map: average, or generalised mean (GeM, Radenović et al. 2018).</summary>
public enum Pooling { Avg, Gem }

/// <summary>What to build: a backbone by name and the ReID head on top of it. Loaded from YAML/JSON configs.</summary>
public sealed record ModelConfig
{
    /// <summary>A name of <see cref="BackboneRegistry"/>.</summary>
    public string Backbone { get; init; } = "osnet_x0_25";
    /// <summary>
    /// Stride of the last down-sampling: 1 is the ReID choice of Luo et al. 2019. Null takes each backbone's usual
    /// setting: 1 for ResNet and MobileNetV2 (BoT), 2 for OSNet (torchreid, where conv3's average pool does it).
    /// </summary>
    public int? LastStride { get; init; }

    /// <summary>The stride actually used (see <see cref="LastStride"/>).</summary>
    public int EffectiveLastStride => LastStride ?? BackboneRegistry.UsualLastStride(Backbone);
    public Pooling Pooling { get; init; } = Pooling.Avg;
    /// <summary>Initial (learned) exponent of GeM pooling.</summary>
    public float GemP { get; init; } = 3f;
    /// <summary>0 keeps the backbone's dimension; otherwise a bias-free linear reduction to this size.</summary>
    public int EmbeddingDim { get; init; }
    /// <summary>BatchNorm1d between the feature and the classifier (BNNeck); the embedding is taken after it.</summary>
    public bool BnNeck { get; init; } = true;
    /// <summary>Identities of the training set (classifier outputs); 0 builds no classifier (inference only).</summary>
    public int Classes { get; init; }
    /// <summary>
    /// Horizontal stripes of the last feature map, each with its own head next to the global one (PCB, Sun et al.
    /// 2018; MGN, Wang et al. 2018); 0 = the global head only. The embedding is the global one followed by the parts'.
    /// </summary>
    public int Parts { get; init; }
    /// <summary>Embedding size of each part's head (a linear reduction of the stripe's pooled channels).</summary>
    public int PartEmbeddingDim { get; init; } = 256;

    /// <summary>The backbone alone (e.g. to import an ONNX OSNet into before adding a head).</summary>
    public Module CreateBackbone() => BackboneRegistry.Create(Backbone, EffectiveLastStride, OSNetGemP);

    private float? OSNetGemP => Pooling == Pooling.Gem ? GemP : null;

    /// <summary>
    /// The configuration an <see cref="Architecture"/> id describes (what an exported model's <c>reid.architecture</c>
    /// metadata holds), e.g. <c>osnet_x0_25/ls2/average/emb0/bnneck/cls0/parts2x256+arcface</c>; training-only
    /// suffixes after '+' are ignored.
    /// </summary>
    public static ModelConfig Parse(string architecture)
    {
        var parts = architecture.Split('+')[0].Split('/');
        ReidException Bad() => new($"'{architecture}' is not a model architecture id (backbone/ls2/average/emb0/bnneck/cls0[/partsNxD])");
        if (parts.Length is < 6 or > 7 || !BackboneRegistry.IsKnown(parts[0])) throw Bad();
        static int Number(string token, string prefix, Func<ReidException> bad) =>
            token.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(token[prefix.Length..], out var v) && v >= 0 ? v : throw bad();
        var config = new ModelConfig
        {
            Backbone = BackboneRegistry.Canonical(parts[0]),
            LastStride = Number(parts[1], "ls", Bad),
            Pooling = parts[2] switch { "average" => Pooling.Avg, "gem" => Pooling.Gem, _ => throw Bad() },
            EmbeddingDim = Number(parts[3], "emb", Bad),
            BnNeck = parts[4] switch { "bnneck" => true, "plain" => false, _ => throw Bad() },
            Classes = Number(parts[5], "cls", Bad),
        };
        if (parts.Length == 7)
        {
            var p = parts[6].StartsWith("parts", StringComparison.Ordinal) ? parts[6]["parts".Length..].Split('x') : [];
            if (p.Length != 2 || !int.TryParse(p[0], out var stripes) || !int.TryParse(p[1], out var dim)) throw Bad();
            config = config with { Parts = stripes, PartEmbeddingDim = dim };
        }
        return config;
    }

    /// <summary>Architecture id stored in checkpoints: a checkpoint only loads into the same one.</summary>
    public string Architecture =>
        $"{BackboneRegistry.Canonical(Backbone)}/ls{EffectiveLastStride}/{(Pooling == Pooling.Gem ? "gem" : "average")}/emb{EmbeddingDim}/{(BnNeck ? "bnneck" : "plain")}/cls{Classes}" +
        (Parts > 0 ? $"/parts{Parts}x{PartEmbeddingDim}" : "");
}

/// <summary>
/// The ReID head (Luo et al. 2019, "Bag of Tricks"): global pooling (average or GeM) unless the backbone
/// pools itself, an optional linear reduction, BNNeck (BatchNorm1d whose shift is frozen) and a bias-free
/// classifier. <see cref="Forward"/> gives the embedding (after BNNeck); <see cref="ReidModel.ForwardTrain"/>
/// also gives the pre-BNNeck feature (for metric losses) and the logits.
/// </summary>
public sealed class ReidHead : Module
{
    private readonly Module? _pool, _reduce, _bnneck, _classifier;

    public ReidHead(int inputDim, bool inputPooled, ModelConfig config)
    {
        if (!inputPooled) _pool = AddModule<Module>("pool", config.Pooling == Pooling.Gem ? new GeMPool2d(config.GemP) : new GlobalAvgPool2d());
        var dim = inputDim;
        if (config.EmbeddingDim > 0)
        {
            _reduce = AddModule("reduce", new Linear(inputDim, config.EmbeddingDim, bias: false));
            dim = config.EmbeddingDim;
        }
        if (config.BnNeck)
        {
            _bnneck = AddModule("bnneck", new BatchNorm1d(dim));
            // BNNeck's shift stays zero so the feature before it and after it live on the same sphere.
            foreach (var (name, p) in _bnneck.NamedParameters())
                if (name == "bias") p.RequiresGrad = false;
        }
        if (config.Classes > 0) _classifier = AddModule("classifier", new Linear(dim, config.Classes, bias: false));
        EmbeddingDim = dim;
    }

    public int EmbeddingDim { get; }
    public bool HasClassifier => _classifier is not null;

    /// <summary>Pooled (and reduced) feature before BNNeck.</summary>
    public Tensor Feature(Tensor backboneOutput)
    {
        var x = _pool is null ? backboneOutput : Ops.Flatten(_pool.Forward(backboneOutput));
        return _reduce is null ? x : _reduce.Forward(x);
    }

    public Tensor Neck(Tensor feature) => _bnneck is null ? feature : _bnneck.Forward(feature);

    /// <summary>The BNNeck (null without one).</summary>
    public BatchNorm? NeckLayer => _bnneck as BatchNorm;

    /// <summary>Whether the feature is the pooled backbone output itself (no reduction layer).</summary>
    public bool Reduces => _reduce is not null;

    public Tensor Classify(Tensor neck) =>
        _classifier?.Forward(neck) ?? throw new ReidException("this model has no classifier (Classes = 0)");

    public override Tensor Forward(Tensor input) => Neck(Feature(input));
}

/// <summary>Backbone + ReID head(s): the model the trainer trains and the exporter writes to ONNX.</summary>
public sealed class ReidModel : Module
{
    private readonly ReidHead[] _parts;

    public ReidModel(ModelConfig config)
    {
        Config = config;
        Backbone = AddModule("backbone", config.CreateBackbone());
        var b = (IBackbone)Backbone;
        Head = AddModule("head", new ReidHead(b.OutputDim, b.Pools, config));
        if (config.Parts < 0) throw new ReidException($"parts must be 0 or more, not {config.Parts}");
        // A part head pools its stripe by average (a stripe is small; GeM's exponent would be one more thing to learn
        // per part) and always reduces to its own size.
        var partConfig = config with { Pooling = Pooling.Avg, EmbeddingDim = config.PartEmbeddingDim };
        _parts = Enumerable.Range(0, config.Parts)
            .Select(i => AddModule($"{PartPrefix}{i}", new ReidHead(b.MapChannels, inputPooled: false, partConfig))).ToArray();
        EmbeddingDim = Head.EmbeddingDim + _parts.Sum(p => p.EmbeddingDim);
    }

    public ModelConfig Config { get; }
    public Module Backbone { get; }
    /// <summary>The global head.</summary>
    public ReidHead Head { get; }
    /// <summary>The part heads, top stripe first (empty without parts).</summary>
    public IReadOnlyList<ReidHead> Parts => _parts;
    /// <summary>Length of the exported embedding: the global head's plus every part's.</summary>
    public int EmbeddingDim { get; }

    /// <summary>Prefix of the head's parameter names (its own learning rate in <c>ParameterGroups.Build</c>).</summary>
    public const string HeadPrefix = "head.";
    /// <summary>Prefix of the part heads' module names ("part0", "part1", …).</summary>
    public const string PartPrefix = "part";

    /// <summary>Embedding (after BNNeck; global then parts): what inference and the ONNX export return.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (_parts.Length == 0) return Head.Forward(Backbone.Forward(input));
        return Ops.Concat(1, Branches(input).Select(b => b.Neck).ToArray());
    }

    /// <summary>
    /// Each head's feature before BNNeck (metric losses) and after it (classifiers, embedding): the global head
    /// first, then the parts top to bottom. One backbone pass feeds all of them.
    /// </summary>
    public IReadOnlyList<(Tensor Feature, Tensor Neck)> Branches(Tensor images)
    {
        Tensor? map = null;
        Tensor output;
        if (_parts.Length == 0) output = Backbone.Forward(images);
        else (map, output) = ((IBackbone)Backbone).ForwardWithMap(images);
        var global = Head.Feature(output);
        var branches = new List<(Tensor, Tensor)> { (global, Head.Neck(global)) };
        for (var i = 0; i < _parts.Length; i++)
        {
            var (lo, hi) = StripeRows(map!.Dim(2), i, _parts.Length);
            var feature = _parts[i].Feature(Ops.Slice(map, 2, lo, hi));
            branches.Add((feature, _parts[i].Neck(feature)));
        }
        return branches;
    }

    /// <summary>Rows [lo, hi) of stripe <paramref name="index"/> when <paramref name="height"/> rows are cut into
    /// <paramref name="count"/> near-equal horizontal stripes.</summary>
    public static (int Lo, int Hi) StripeRows(int height, int index, int count)
    {
        if (count > height) throw new ReidException($"{count} parts do not fit a feature map {height} rows high");
        return (index * height / count, (index + 1) * height / count);
    }

    /// <summary>Training outputs of the global head: the feature before BNNeck (triplet/center losses) and the class logits.</summary>
    public (Tensor Feature, Tensor Logits) ForwardTrain(Tensor images)
    {
        var (feature, neck) = Branches(images)[0];
        return (feature, Head.Classify(neck));
    }
}
