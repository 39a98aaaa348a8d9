using Reid.Imaging;

namespace Reid.Video.Quality;

/// <summary>
/// When a crop of a tracked person counts as flawed (configs/video.yaml, <c>extraction.quality</c>), and the scoring
/// itself. A crop is measured when it is cut, where its frame and that frame's other detections are at hand
/// (<see cref="Measure"/>); blur is judged later against the rest of its track (<see cref="Judge"/>), because how
/// sharp a person can look depends on the camera, the light and the distance, which only the track knows.
/// </summary>
public sealed record CropQualityRules
{
    /// <summary>A box within this many pixels of the frame's edge is cut at the border.</summary>
    public double BorderMargin { get; init; } = 2;
    /// <summary>Height / width below this is not a whole standing person (a head and shoulders, a seated or cut person).</summary>
    public double MinAspectRatio { get; init; } = 1.5;
    /// <summary>Height / width above this is a sliver, not a person (a box cut by the frame's side or by an occluder).</summary>
    public double MaxAspectRatio { get; init; } = 5.0;
    /// <summary>A crop more covered than this by one nearer detection is occluded.</summary>
    public double MaxOcclusion { get; init; } = 0.3;
    /// <summary>Other detections below this score are not trusted as occluders (the detector keeps low boxes for the tracker).</summary>
    public double OccluderMinScore { get; init; } = 0.3;
    /// <summary>A crop less sharp than this fraction of its track's median sharpness is blurred.</summary>
    public double MinRelativeSharpness { get; init; } = 0.5;
    /// <summary>Blur is judged only on tracks with at least this many crops (a median of two says little).</summary>
    public int MinCropsForBlur { get; init; } = 3;

    internal void Check(Core.Config.ConfigProblems p)
    {
        p.Minimum("extraction.quality.border_margin", BorderMargin, 0);
        p.Minimum("extraction.quality.min_aspect_ratio", MinAspectRatio, 0);
        p.Minimum("extraction.quality.max_aspect_ratio", MaxAspectRatio, MinAspectRatio, open: true);
        p.Range("extraction.quality.max_occlusion", MaxOcclusion, 0, 1);
        p.Range("extraction.quality.occluder_min_score", OccluderMinScore, 0, 1);
        p.Range("extraction.quality.min_relative_sharpness", MinRelativeSharpness, 0, 1);
        p.Minimum("extraction.quality.min_crops_for_blur", MinCropsForBlur, 2);
    }

    /// <summary>Crops are measured for sharpness at this height: a Laplacian's variance depends on the scale.</summary>
    public const int SharpnessHeight = 128;

    /// <summary>
    /// Border, shape, occlusion and sharpness of the crop of detection <paramref name="self"/> among a frame's
    /// <paramref name="detections"/>; flaws other than blur are decided here.
    /// </summary>
    public CropQuality Measure(int frameWidth, int frameHeight, IReadOnlyList<Detection> detections, int self, RgbImage crop)
    {
        var box = detections[self].Box;
        var m = BorderMargin;
        var touches = box.X <= m || box.Y <= m || box.Right >= frameWidth - m || box.Bottom >= frameHeight - m;
        var aspect = box.Width > 0 ? box.Height / (double)box.Width : double.PositiveInfinity;
        var occlusion = 0.0;
        for (var i = 0; i < detections.Count; i++)
        {
            if (i == self || detections[i].Score < OccluderMinScore) continue;
            var other = detections[i].Box;
            // On a ground plane the person whose feet are lower in the picture is nearer the camera: only they can
            // hide this one. Without this, the occluder itself would be flagged as occluded by the person behind it.
            if (other.Bottom < box.Bottom) continue;
            var iw = Math.Min(box.Right, other.Right) - Math.Max(box.X, other.X);
            var ih = Math.Min(box.Bottom, other.Bottom) - Math.Max(box.Y, other.Y);
            if (iw > 0 && ih > 0 && box.Area > 0) occlusion = Math.Max(occlusion, iw * ih / (double)box.Area);
        }
        var flaws = new List<CropFlaw>();
        if (touches) flaws.Add(CropFlaw.CutAtBorder);
        if (aspect < MinAspectRatio || aspect > MaxAspectRatio) flaws.Add(CropFlaw.Truncated);
        if (occlusion > MaxOcclusion) flaws.Add(CropFlaw.Occluded);
        return new CropQuality(touches, aspect, occlusion, Sharpness(crop), null, flaws);
    }

    /// <summary>The crops of one track with blur judged against the track's median sharpness.</summary>
    public IReadOnlyList<TrackCrop> Judge(IReadOnlyList<TrackCrop> crops)
    {
        var measured = crops.Where(c => c.Quality is not null).Select(c => c.Quality!.Sharpness).Order().ToArray();
        if (measured.Length == 0) return crops;
        var median = measured.Length % 2 == 1 ? measured[measured.Length / 2] : (measured[measured.Length / 2 - 1] + measured[measured.Length / 2]) / 2;
        return crops.Select(c =>
        {
            if (c.Quality is not { } q) return c;
            double? relative = median > 0 ? q.Sharpness / median : null;
            var flaws = q.Flaws.Where(f => f != CropFlaw.Blurred).ToList();
            if (measured.Length >= MinCropsForBlur && relative < MinRelativeSharpness) flaws.Add(CropFlaw.Blurred);
            return c with { Quality = q with { RelativeSharpness = relative, Flaws = flaws } };
        }).ToList();
    }

    /// <summary>Variance of the 4-neighbour Laplacian of the grey levels, the crop scaled to <see cref="SharpnessHeight"/> rows.</summary>
    public static double Sharpness(RgbImage crop)
    {
        var h = SharpnessHeight;
        var w = Math.Max(3, (int)Math.Round(crop.Width * (double)h / crop.Height));
        var img = crop.Height == h && crop.Width == w ? crop : ImageResize.Bilinear(crop, w, h);
        var grey = new float[w * h];
        var p = img.Pixels;
        for (var i = 0; i < grey.Length; i++) grey[i] = 0.299f * p[3 * i] + 0.587f * p[3 * i + 1] + 0.114f * p[3 * i + 2];
        double sum = 0, sumSq = 0;
        long n = 0;
        for (var y = 1; y < h - 1; y++)
        for (var x = 1; x < w - 1; x++)
        {
            var i = y * w + x;
            double lap = grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4 * grey[i];
            sum += lap; sumSq += lap * lap; n++;
        }
        if (n == 0) return 0;
        var mean = sum / n;
        return Math.Max(0, sumSq / n - mean * mean);
    }
}
