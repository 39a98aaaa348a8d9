using System.Globalization;
using System.Text.Json.Nodes;
using Reid.Core;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Optim;
using Reid.Engine.Tensors;

namespace Reid.Engine.Checkpoints;

/// <summary>Where training stood when a checkpoint was written.</summary>
public sealed record CheckpointInfo(string Architecture, int Epoch, long OptimizerStep, JsonObject Extra);

/// <summary>
/// Saves and resumes a training run in a <see cref="TensorArchive"/> (kind "reid-checkpoint"): the model's
/// parameters and buffers ("model/&lt;dotted name&gt;"), the optimiser's per-parameter state
/// ("optim/&lt;name&gt;/&lt;buffer&gt;"), its step count (the schedule position), the epoch, the random
/// generator's state and any extra values the trainer adds. Loading checks the architecture, every tensor's
/// name and shape, and the optimiser kind, and names the file and tensor when something does not fit.
/// </summary>
public static class Checkpoint
{
    public const string Kind = "reid-checkpoint";
    private const string ModelPrefix = "model/";

    public static void Save(string path, string architecture, Module model, Optimizer? optimizer = null, int epoch = 0,
        Rng? rng = null, JsonObject? extra = null)
    {
        var tensors = model.StateDict()
            .Select(kv => new NamedTensor(ModelPrefix + kv.Key, kv.Value.ShapeArray(), kv.Value.ToArray()))
            .ToList();
        if (optimizer is not null) tensors.AddRange(optimizer.StateTensors());
        var values = new JsonObject
        {
            ["architecture"] = architecture,
            ["epoch"] = epoch,
            ["parameters"] = model.ParameterCount(),
            ["saved_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        if (optimizer is not null)
        {
            values["optimizer"] = optimizer.Kind;
            values["optimizer_step"] = optimizer.StepCount;
            values["schedule"] = optimizer.Schedule.ToString();
        }
        // ulongs as decimal strings: JSON numbers lose precision above 2^53.
        if (rng is not null) values["rng"] = new JsonArray(rng.State.Select(s => (JsonNode)s.ToString(CultureInfo.InvariantCulture)).ToArray());
        if (extra is not null) values["extra"] = extra.DeepClone();
        TensorArchive.Write(path, new ArchiveContent { Kind = Kind, Tensors = tensors, Values = values });
    }

    /// <summary>
    /// Restores <paramref name="model"/> (and <paramref name="optimizer"/>, <paramref name="rng"/> when given) from
    /// <paramref name="path"/>. Nothing is modified unless the whole checkpoint fits.
    /// </summary>
    public static CheckpointInfo Load(string path, string architecture, Module model, Optimizer? optimizer = null, Rng? rng = null)
    {
        var content = TensorArchive.Read(path);
        if (content.Kind != Kind) throw new ReidException($"{path}: holds '{content.Kind}', not a training checkpoint");
        var values = content.Values;
        var saved = Text(values, "architecture", path);
        if (saved != architecture)
            throw new ReidException($"{path}: checkpoint of architecture '{saved}' cannot be loaded into '{architecture}'");

        var byName = content.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var own = model.StateDict();
        foreach (var (name, t) in own)
        {
            if (!byName.TryGetValue(ModelPrefix + name, out var s))
                throw new ReidException($"{path}: tensor '{name}' is missing from the checkpoint");
            if (!s.Shape.AsSpan().SequenceEqual(t.Shape))
                throw new ReidException($"{path}: tensor '{name}' has shape {s.ShapeText}, the model expects [{string.Join("x", t.ShapeArray())}]");
        }
        var extraTensor = content.Tensors.FirstOrDefault(t => t.Name.StartsWith(ModelPrefix, StringComparison.Ordinal)
            && !own.ContainsKey(t.Name[ModelPrefix.Length..]));
        if (extraTensor is not null)
            throw new ReidException($"{path}: tensor '{extraTensor.Name[ModelPrefix.Length..]}' in the checkpoint does not exist in the model");

        ulong[]? rngState = null;
        if (rng is not null)
        {
            if (values["rng"] is not JsonArray words || words.Count != 4)
                throw new ReidException($"{path}: no random-generator state saved");
            rngState = words.Select((w, i) =>
                ulong.TryParse(JsonFields.Value<string>(w, $"random-generator word {i}", path), NumberStyles.None, CultureInfo.InvariantCulture, out var word)
                    ? word : throw new ReidException($"{path}: corrupt random-generator state")).ToArray();
        }
        long step = 0;
        if (optimizer is not null)
        {
            var kind = values["optimizer"] is null ? null : Text(values, "optimizer", path);
            if (kind is null) throw new ReidException($"{path}: has no optimiser state to resume from");
            if (kind != optimizer.Kind)
                throw new ReidException($"{path}: optimiser state is '{kind}', the run uses '{optimizer.Kind}'");
            step = Number(values, "optimizer_step", path);
            // Validates every optimiser buffer before the model is touched; it only copies when all fit.
            optimizer.LoadState(byName, step, path);
        }

        model.LoadStateDict(own.Keys.ToDictionary(n => n, n => (byName[ModelPrefix + n].Shape, byName[ModelPrefix + n].Data)),
            strict: true, source: path);
        if (rngState is not null) rng!.State = rngState;
        return new CheckpointInfo(saved, (int)Number(values, "epoch", path), step, values["extra"] as JsonObject ?? []);
    }

    private static string Text(JsonObject values, string key, string path) => JsonFields.Value<string>(values, key, path);

    private static long Number(JsonObject values, string key, string path) => JsonFields.Value<long>(values, key, path);
}
