using Reid.Core;
using Reid.Video.Decoding;
using Reid.Gallery;
using Reid.TestSupport;
using Reid.Video.Calibration;
using Xunit.Abstractions;

namespace Reid.Video.Tests.Calibration;

/// <summary>
/// Issue #20 point 2 on the shared video `one-by-one-person-detection.mp4`: six people walk past one at a time. Labelled by
/// looking at every track's crops (tracks of the shipped default, yolox-nano, configs/video.yaml): the frames each person
/// is in view. Two are women in grey cardigans (people 1 and 5), two men in black tops (2 and 4).
/// </summary>
public class SharedVideoDecisionTests(ITestOutputHelper output)
{
    private static readonly (string Who, long From, long To)[] People =
    [
        ("woman, grey cardigan, light-brown hair", 70, 197),
        ("man, black hoodie", 235, 446),
        ("woman, blonde hair, black top", 507, 696),
        ("man, black T-shirt, glasses", 750, 866),
        ("woman, grey cardigan, dark hair", 934, 1196),
        ("man, grey shirt, curly hair", 1238, 1357),
    ];

    /// <summary>Which labelled person a track is (by where its frames fall), or -1.</summary>
    private static int PersonOf(PersonTrack t) =>
        Array.FindIndex(People, p => t.FirstFrame >= p.From - 15 && t.LastFrame <= p.To + 15);

    private static CropInput[] Crops(IEnumerable<TrackCrop> crops) =>
        crops.Select(c => new CropInput(c.Image, new SightingSource(Source: "video", Frame: c.Observation.Frame))).ToArray();

    [SharedFact]
    public void Strangers_are_accepted_at_the_benchmark_threshold_and_none_after_calibrating_on_unlabelled_video()
    {
        using var model = GalleryModels.Open();                 // the shipped default and its declared threshold
        using var extractor = new VideoPersonExtractor(VideoConfig.LoadDefault(), SharedData.YoloxNano, model.Onnx);
        var tracks = extractor.ExtractDetailed(SharedData.Video, FrameRange.All, "v", null, CancellationToken.None).Tracks;
        // six people, six tracks: people walking towards the camera grow faster than the Kalman gate allows, and the
        // tracker used to lose them for a frame and start again (nine tracks, three of them 5-7-detection fragments)
        Assert.Equal(6, tracks.Count);
        var main = tracks.ToList();
        Assert.Equal(Enumerable.Range(0, 6), main.Select(PersonOf));   // one track per person, in order

        // the video shows one person at a time: it proves no two people different, and calibration says so
        var oneAtATime = Assert.Throws<ReidException>(() => TrackPairCalibration.Calibrate(
            [TrackPairCalibration.FromTracks(tracks, model.Embed)], new TrackCalibrationOptions { TargetFar = 1e-2 }));
        Assert.Contains($"0 pair(s) of people seen at the same time among {tracks.Count} tracks", oneAtATime.Message);

        // a busy unlabelled street (TUD-Stadtmitte) does: people in view together are different
        var street = extractor.ExtractDetailed(SharedData.TudStadtmitte, FrameRange.All, "tud", null, CancellationToken.None).Tracks;
        var calibrated = TrackPairCalibration.Calibrate([TrackPairCalibration.FromTracks(street, model.Embed)], new TrackCalibrationOptions { TargetFar = 1e-2 });
        output.WriteLine($"calibrated on TUD-Stadtmitte: threshold {calibrated.Point.Threshold:F4} at FAR {calibrated.Point.Far:F4} " +
                         $"({calibrated.PeoplePairs} pairs of people, {calibrated.Scores.Impostor.Length} comparisons), TAR {calibrated.Point.Tar:F3}");

        using var dir = new TempDir();
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        var declared = gallery.ResolveThreshold().Score;
        var enrolment = extractor.ExtractDetailed(SharedData.Video, new FrameRange(80, 220), "v", null, CancellationToken.None).Tracks;
        var her = gallery.EnrolCrops("Cardigan woman", Crops(Assert.Single(enrolment).Crops)).Identity.Id;

        var acceptedBefore = new List<int>();
        foreach (var t in main)
        {
            var before = gallery.VerifyCrops(her, Crops(t.Crops));
            var after = gallery.VerifyCrops(her, Crops(t.Crops), calibrated.Point.Threshold);
            output.WriteLine($"track {t.Id} ({People[PersonOf(t)].Who}): score {before.Score:F3}; accepted at {declared:F4}: {before.Match}, at {calibrated.Point.Threshold:F4}: {after.Match}");
            if (PersonOf(t) == 0)
            {
                Assert.True(after.Match, "she must still be accepted as herself");
                continue;
            }
            if (before.Match) acceptedBefore.Add(PersonOf(t));
            Assert.False(after.Match, $"{People[PersonOf(t)].Who} accepted as the cardigan woman (score {after.Score:F3})");
        }
        Assert.NotEmpty(acceptedBefore);   // what the issue reported: the benchmark's threshold lets strangers in

        // open-set figures over the six people (each enrolled from the first half of their track in turn, probed with
        // the second half; the other five are strangers)
        var halves = main.Select(t => (First: t.Crops.Take(t.Crops.Count / 2).ToArray(), Second: t.Crops.Skip(t.Crops.Count / 2).ToArray())).ToList();
        foreach (var (label, threshold) in new[] { ("declared", declared), ("calibrated", calibrated.Point.Threshold) })
        {
            int strangersAccepted = 0, strangers = 0, found = 0;
            for (var enrolled = 0; enrolled < halves.Count; enrolled++)
            {
                using var d = new TempDir();
                var g = new GalleryService(GalleryStore.Open(d.Path), model);
                var id = g.EnrolCrops($"person {enrolled}", Crops(halves[enrolled].First)).Identity.Id;
                if (g.VerifyCrops(id, Crops(halves[enrolled].Second), threshold).Match) found++;
                for (var other = 0; other < halves.Count; other++)
                {
                    if (other == enrolled) continue;
                    strangers++;
                    if (g.VerifyCrops(id, Crops(main[other].Crops), threshold).Match) strangersAccepted++;
                }
            }
            output.WriteLine($"{label} threshold {threshold:F4}: strangers accepted {strangersAccepted}/{strangers}, own second half accepted {found}/{halves.Count}");
        }
    }
}
