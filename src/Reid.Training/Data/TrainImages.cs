using Reid.Data;
using Reid.Imaging;

namespace Reid.Training.Data;

/// <summary>
/// The images a <see cref="TrainLoader"/> decodes, by index: files on disk, crops packed in a <see cref="CropStore"/>,
/// or several of these one after another. Decode is called from the loader's worker threads.
/// </summary>
public sealed class TrainImages
{
    private readonly Func<int, RgbImage> _decode;

    private TrainImages(int count, Func<int, RgbImage> decode) => (Count, _decode) = (count, decode);

    public int Count { get; }

    public RgbImage Decode(int index) => _decode(index);

    public static TrainImages Files(IReadOnlyList<string> paths) => new(paths.Count, i => ImageCodec.Decode(paths[i]));

    public static TrainImages Store(CropStore store, IReadOnlyList<long> ids) =>
        new(ids.Count, i => ImageCodec.Decode(store.ReadJpeg(ids[i]), $"{store.Path}#{ids[i]}"));

    public static TrainImages Concat(params TrainImages[] parts)
    {
        var starts = new int[parts.Length];
        for (int p = 1; p < parts.Length; p++) starts[p] = starts[p - 1] + parts[p - 1].Count;
        return new(parts.Sum(p => p.Count), i =>
        {
            var p = Array.FindLastIndex(starts, s => s <= i);
            return parts[p].Decode(i - starts[p]);
        });
    }
}
