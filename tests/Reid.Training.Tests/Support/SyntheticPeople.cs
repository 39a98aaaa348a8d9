using Reid.Imaging;

namespace Reid.Training.Tests.Support;

/// <summary>
/// A tiny Market-1501-style data set of synthetic JPEG "people": each identity is a distinct pair of
/// upper/lower body colours with per-image noise, so a small model can learn to tell them apart.
/// Written with Market names (PPPP_cCsS_FFFFFF_BB.jpg) into bounding_box_train/ plus a holdout-style split.
/// </summary>
public static class SyntheticPeople
{
    /// <param name="heldOutIdentities">Extra identities written after the training ones and listed only in the
    /// split's query.txt (each one's first image) and gallery.txt (the rest), as holdout-v1 holds out its test people.</param>
    public static (string Root, string Split) Write(string dir, int identities, int imagesPerIdentity, int seed = 1, int width = 32, int height = 64,
        int heldOutIdentities = 0)
    {
        var root = Path.Combine(dir, "market");
        var train = Path.Combine(root, "bounding_box_train");
        var split = Path.Combine(dir, "split");
        Directory.CreateDirectory(train);
        Directory.CreateDirectory(split);
        var rng = new Random(seed);
        var names = new List<string>();
        for (var id = 1; id <= identities + heldOutIdentities; id++)
        {
            var palette = new Random(id * 7919);
            byte[] top = [(byte)palette.Next(256), (byte)palette.Next(256), (byte)palette.Next(256)];
            byte[] bottom = [(byte)palette.Next(256), (byte)palette.Next(256), (byte)palette.Next(256)];
            for (var k = 0; k < imagesPerIdentity; k++)
            {
                var img = RgbImage.Blank(width, height);
                var split2 = height / 2 + rng.Next(-4, 5);
                for (var y = 0; y < height; y++)
                    for (var x = 0; x < width; x++)
                    {
                        var c = y < split2 ? top : bottom;
                        var o = (y * width + x) * 3;
                        for (var ch = 0; ch < 3; ch++) img.Pixels[o + ch] = (byte)Math.Clamp(c[ch] + rng.Next(-25, 26), 0, 255);
                    }
                var name = $"{id:D4}_c{k % 6 + 1}s1_{k:D6}_01.jpg";
                File.WriteAllBytes(Path.Combine(train, name), ImageCodec.EncodeJpeg(img, 90));
                names.Add(name);
            }
        }
        var trainNames = names.Take(identities * imagesPerIdentity).ToList();
        var heldOut = names.Skip(trainNames.Count).ToList();
        File.WriteAllLines(Path.Combine(split, "train.txt"), trainNames);
        if (heldOut.Count == 0)
        {
            // query/gallery lists exist so the split loads like holdout-v1; training never reads them
            File.WriteAllLines(Path.Combine(split, "query.txt"), names.Take(1));
            File.WriteAllLines(Path.Combine(split, "gallery.txt"), names.Skip(1).Take(1));
        }
        else
        {
            File.WriteAllLines(Path.Combine(split, "query.txt"), heldOut.Where((_, i) => i % imagesPerIdentity == 0));
            File.WriteAllLines(Path.Combine(split, "gallery.txt"), heldOut.Where((_, i) => i % imagesPerIdentity != 0));
        }
        return (root, split);
    }
}
