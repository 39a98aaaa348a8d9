using System.Text.Json;
using Reid.Data;
using Reid.Gallery.Video;
using Reid.TestSupport;

namespace Reid.Gallery.Tests;

/// <summary>`reid replay`: scoring of global identities, track forming from Market-style names, a replay of synthetic
/// people through the real associator, and the command's errors for bad input.</summary>
public sealed class NetworkReplayTests
{
    private static ScoredTrack T(string camera, int person, long identity, int sightings = 1) => new(camera, person, identity, sightings);

    [Fact]
    public void Perfect_identities_score_one_everywhere()
    {
        var s = ReplayScoring.Score([T("1", 1, 10, 3), T("2", 1, 10, 2), T("3", 1, 10), T("1", 2, 20, 4), T("2", 2, 20)]);
        Assert.Equal((4L, 4L, 4L), (s.TruePairs, s.LinkedPairs, s.CorrectLinks));   // person 1: 3 cross-camera pairs, person 2: 1
        Assert.Equal((1.0, 1.0, 1.0, 1.0), (s.LinkPrecision, s.LinkRecall, s.LinkF1, s.Idf1));
        Assert.Equal((0, 1.0, 0, 2, 2), (s.PeopleSplit, s.IdentitiesPerPerson, s.IdentitiesMerged, s.Identities, s.People));
        Assert.Equal((11L, 11L, 0L, 0L), (s.Sightings, s.Idtp, s.Idfp, s.Idfn));
    }

    [Fact]
    public void Everyone_merged_into_one_identity_links_every_pair()
    {
        // Persons 1 (3 sightings on cameras 1, 2) and 2 (1 + 1 on cameras 1, 2), one identity.
        var s = ReplayScoring.Score([T("1", 1, 7, 2), T("2", 1, 7, 1), T("1", 2, 7, 1), T("2", 2, 7, 1)]);
        Assert.Equal(6 - 2, s.CrossCameraPairs);          // C(4,2) minus the two same-camera pairs
        Assert.Equal((4L, 2L, 2L), (s.LinkedPairs, s.TruePairs, s.CorrectLinks));
        Assert.Equal(0.5, s.LinkPrecision, 12);
        Assert.Equal(1.0, s.LinkRecall, 12);
        Assert.Equal(2 * 0.5 / 1.5, s.LinkF1, 12);
        // The one identity matches person 1 (3 sightings of 5): IDF1 = 2·3 / (2·3 + 2 + 2) = 0.6.
        Assert.Equal((3L, 2L, 2L), (s.Idtp, s.Idfp, s.Idfn));
        Assert.Equal(0.6, s.Idf1, 12);
        Assert.Equal((0, 1, 1), (s.PeopleSplit, s.IdentitiesMerged, s.Identities));
    }

    [Fact]
    public void Every_track_its_own_identity_links_nothing()
    {
        var s = ReplayScoring.Score([T("1", 1, 1, 2), T("2", 1, 2, 1), T("3", 1, 3, 1), T("1", 2, 4, 5)]);
        Assert.Equal((0L, 3L, 0L), (s.LinkedPairs, s.TruePairs, s.CorrectLinks));
        Assert.Equal(1.0, s.LinkPrecision);               // no link, so no wrong link
        Assert.Equal(0.0, s.LinkRecall);
        Assert.Equal(0.0, s.LinkF1);
        // Person 1 keeps its largest track (2 of 4 sightings), person 2 all 5: IDTP 7 of 9.
        Assert.Equal(7L, s.Idtp);
        Assert.Equal(2.0 * 7 / (2 * 7 + 2 + 2), s.Idf1, 12);
        Assert.Equal((1, 2.0, 0, 4), (s.PeopleSplit, s.IdentitiesPerPerson, s.IdentitiesMerged, s.Identities));
    }

    [Fact]
    public void The_matching_is_one_to_one_and_maximal()
    {
        // Greedy would give identity 0 to person 0 (5) and then person 1 gets 1: 6; the optimum is 4 + 4 = 8.
        Assert.Equal(8, ReplayScoring.MaxWeightMatching(new long[,] { { 5, 4 }, { 4, 0 } }));
        Assert.Equal(0, ReplayScoring.MaxWeightMatching(new long[0, 3]));
        var rng = new Random(7);
        for (var trial = 0; trial < 200; trial++)
        {
            int r = rng.Next(1, 5), c = rng.Next(1, 5);
            var w = new long[r, c];
            for (var i = 0; i < r; i++) for (var j = 0; j < c; j++) w[i, j] = rng.Next(0, 10);
            Assert.Equal(BruteForce(w), ReplayScoring.MaxWeightMatching(w));
        }
    }

    private static long BruteForce(long[,] w)
    {
        int r = w.GetLength(0), c = w.GetLength(1);
        long best = 0;
        void Go(int i, bool[] used, long sum)
        {
            if (i == r) { best = Math.Max(best, sum); return; }
            Go(i + 1, used, sum);
            for (var j = 0; j < c; j++)
            {
                if (used[j]) continue;
                used[j] = true; Go(i + 1, used, sum + w[i, j]); used[j] = false;
            }
        }
        Go(0, new bool[c], 0);
        return best;
    }

    private static ImageRecord Rec(int person, int camera, int sequence, int frame, int box = 1)
    {
        var name = $"{(person < 0 ? "-1" : person.ToString("D4"))}_c{camera}s{sequence}_{frame:D6}_{box:D2}.jpg";
        return Market1501Name.TryParse(name)!.Value.ToRecord("/x/" + name);
    }

    /// <summary>A clock where sequence s of every camera starts at 1000·s seconds, 25 fps; sequence 9 is unknown.</summary>
    private static double? Clock(string camera, int sequence, int frame) => sequence == 9 ? null : 1000.0 * sequence + frame / 25.0;

    [Fact]
    public void Tracks_are_one_person_camera_and_sequence_in_frame_order_reported_by_end()
    {
        var formed = NetworkReplay.FormTracks(
        [
            Rec(1, 1, 1, 500), Rec(1, 1, 1, 100), Rec(1, 1, 1, 300),   // one track, out of order
            Rec(1, 1, 2, 50),                                          // same camera, next sequence: another track
            Rec(1, 2, 1, 200), Rec(1, 2, 1, 250),                      // another camera
            Rec(2, 1, 1, 120), Rec(2, 1, 1, 130),                      // another person, same camera and sequence
            Rec(3, 1, 9, 10),                                          // a sequence the clock does not know
            Rec(-1, 1, 1, 40), Rec(0, 2, 1, 40),                       // junk and distractor
        ], Clock);
        Assert.Equal((1, 2), (formed.Untimed, formed.Unlabelled));
        var tracks = formed.Tracks;
        Assert.Equal(4, tracks.Count);
        Assert.Equal(new[] { 1, 2, 3, 4 }, tracks.Select(t => t.Id));
        // By end time: person 2 (1005.2 s), person 1 camera 2 (1010), person 1 camera 1 seq 1 (1020), seq 2 (2002).
        Assert.Equal(new[] { (2, "1", 1), (1, "2", 1), (1, "1", 1), (1, "1", 2) }, tracks.Select(t => (t.PersonId, t.Camera, t.Sequence)));
        var c1 = tracks[2];
        Assert.Equal(new int?[] { 100, 300, 500 }, c1.Crops.Select(r => r.Frame));
        Assert.Equal(new[] { 1004.0, 1012.0, 1020.0 }, c1.Times);
        Assert.Equal((1004.0, 1020.0), (c1.Start, c1.End));
        Assert.Equal(2002.0, tracks[3].Start);
    }

    [Fact]
    public void Records_without_sequence_and_frame_are_refused()
    {
        var e = Assert.Throws<Reid.Core.ReidException>(() => NetworkReplay.FormTracks([new ImageRecord("/x/a.jpg", 1, "1")], Clock));
        Assert.Contains("Market-style", e.Message);
    }

    [Fact]
    public void Synthetic_people_walking_past_three_cameras_are_replayed_into_one_identity_each()
    {
        using var dir = new TempDir();
        var records = new List<ImageRecord>();
        for (var person = 1; person <= 3; person++)
        for (var camera = 1; camera <= 3; camera++)
        for (var shot = 0; shot < 3; shot++)
        {
            var frame = 100 * person + 600 * camera + shot;   // 3 people reach camera 1, then 2, then 3 (24 s apart)
            var name = $"{person:D4}_c{camera}s1_{frame:D6}_01.jpg";
            File.WriteAllBytes(dir.File(name), Fixtures.PersonJpeg(person, 10 * camera + shot));
            records.Add(Market1501Name.TryParse(name)!.Value.ToRecord(dir.File(name)));
        }
        var formed = NetworkReplay.FormTracks(records, Clock);
        Assert.Equal(9, formed.Tracks.Count);
        var embeddedCrops = 0;
        using var model = new EmbeddingModel("counting-histogram", 64, crops => { embeddedCrops += crops.Count; return crops.Select(Fixtures.Histogram).ToArray(); });
        var embedded = NetworkReplay.Embed(formed.Tracks, model, batch: 4);
        Assert.Equal(27, embeddedCrops);
        Assert.All(embedded, e => Assert.Equal(1.0, e.Embedding.Sum(x => (double)x * x), 4));
        var gallery = new GalleryService(GalleryStore.Open(dir.File("gallery")), NetworkReplay.Remembering(model, embedded));
        var outcomes = NetworkReplay.Associate(embedded, gallery, new OnlineAssociatorOptions());
        Assert.Equal(formed.Tracks.OrderBy(t => t.End).Select(t => t.Id), outcomes.Select(o => o.Track.Id));
        Assert.Equal(3, outcomes.Count(o => o.Kind == AssociationKinds.NewIdentity));
        var s = ReplayScoring.Score(NetworkReplay.ForScoring(outcomes));
        Assert.Equal((1.0, 1.0, 1.0), (s.LinkPrecision, s.LinkRecall, s.Idf1));
        Assert.Equal((3, 0, 0), (s.Identities, s.PeopleSplit, s.IdentitiesMerged));
        Assert.Equal(27, gallery.Store.ListIdentities().Sum(i => i.SightingCount));   // 9 tracks × 3 crops (≤ 4 per report)
        Assert.Equal(27, embeddedCrops);   // the gallery's sightings reused the replay's embeddings
    }

    private static ReidCli.Outcome Run(params string[] args) =>
        ReidCli.InProcess((o, e) => Reid.Cli.CliRunner.Run(args, o, e));

    [Fact]
    public void The_command_names_a_missing_root()
    {
        using var dir = new TempDir();
        var r = Run("replay", "--root", dir.File("nowhere"), "--list", dir.File("list.txt"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("data set folder not found", r.Stderr);
    }

    [Fact]
    public void The_command_refuses_a_list_with_no_market_names()
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir.File("list.txt"), ["cat.jpg", "dog.png"]);
        var r = Run("replay", "--root", dir.Path, "--list", dir.File("list.txt"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("none of its 2 name(s) is a Market-style name", r.Stderr);
        var neither = Run("replay", "--root", dir.Path, "--list", "query+nothing");
        Assert.Equal(1, neither.ExitCode);
        Assert.Contains("neither a file nor lists of a split", neither.Stderr);
    }

    [Fact]
    public void The_command_says_when_the_model_cannot_be_opened()
    {
        using var dir = new TempDir();
        var split = Directory.CreateDirectory(dir.File("split")).FullName;
        string[] names = ["0001_c1s1_000100_01.jpg", "0001_c2s1_000400_01.jpg", "0002_c1s1_000200_01.jpg", "0002_c2s1_000500_01.jpg"];
        File.WriteAllLines(Path.Combine(split, "train.txt"), names);
        File.WriteAllLines(Path.Combine(split, "query.txt"), names[..2]);
        File.WriteAllLines(Path.Combine(split, "gallery.txt"), names[2..]);
        File.WriteAllText(dir.File("broken.onnx"), "not an onnx model");
        var r = Run("replay", "--root", dir.Path, "--split", split, "--list", "query+gallery", "--model", dir.File("broken.onnx"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("broken.onnx: ONNX Runtime cannot load the model", r.Stderr);
        var missing = Run("replay", "--root", dir.Path, "--split", split, "--model", dir.File("absent.onnx"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("model not found", missing.Stderr);
    }

    [Fact]
    public void The_command_refuses_contradictory_options()
    {
        using var dir = new TempDir();
        Assert.Contains("--appearance-too goes with --st", Run("replay", "--root", dir.Path, "--appearance-too").Stderr);
        Assert.Contains("--st-min-ratio must be ≥ 0", Run("replay", "--root", dir.Path, "--st-min-ratio", "-1").Stderr);
        Assert.Contains("not a cosine score", Run("replay", "--root", dir.Path, "--threshold", "1.5").Stderr);
        Assert.Contains("the link distance is a cosine distance", Run("replay", "--root", dir.Path, "--link-distance", "3").Stderr);
        Assert.Contains("--root is required", Run("replay", "--list", "query").Stderr);
    }

    [SharedFact]
    public void A_few_training_identities_of_holdout_v1_are_replayed_with_the_default_model()
    {
        using var dir = new TempDir();
        var r = Run("replay", "--root", SharedData.Market1501Train, "--split", SharedData.HoldoutV1, "--list", "train",
            "--max-identities", "6", "--json", dir.File("r.json"));
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var j = JsonDocument.Parse(File.ReadAllText(dir.File("r.json"))).RootElement;
        Assert.Equal(6, j.GetProperty("people").GetInt32());
        var s = j.GetProperty("runs")[0].GetProperty("score");
        Assert.Equal(j.GetProperty("tracks").GetInt32(), s.GetProperty("tracks").GetInt32());
        Assert.Equal(j.GetProperty("images").GetInt32(), s.GetProperty("sightings").GetInt32());
        Assert.InRange(s.GetProperty("idf1").GetDouble(), 0.5, 1.0);   // the default model trained on these people: far above chance
        Assert.Contains("IDF1", r.Stdout);
    }
}
