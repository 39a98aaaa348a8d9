using System.Diagnostics;
using System.Text.Json;
using Reid.Gallery;
using Reid.TestSupport;

namespace Reid.Gallery.Tests;

/// <summary>The `reid gallery` commands as a user runs them: a child process with the shared OSNet model.</summary>
public class CliTests
{
    internal static string Market(string file) => SharedData.Path("data", "market1501", "bounding_box_train", file);

    internal static string[] ImagesOf(string person, int count) => SharedData.MarketImagesOf(person, count);

    internal static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null) => ReidCli.Start(args, env);

    internal static ReidCli.Outcome Run(params string[] args) => ReidCli.Run(args, env: null, TimeSpan.FromMinutes(3));

    [SharedFact]
    public void A_person_tracked_in_a_video_is_enrolled_identified_and_verified_from_the_cli()
    {
        using var dir = new TempDir();
        string[] clip = ["--video", SharedData.Video, "--from", "60", "--to", "110", "--detector", SharedData.YoloxNano];
        var enrol = Run(["gallery", "enrol", "--data", dir.Path, "--name", "walker", "--json", dir.File("enrol.json"), .. clip]);
        Assert.True(enrol.ExitCode == 0, enrol.Stderr + enrol.Stdout);
        var walker = JsonDocument.Parse(File.ReadAllText(dir.File("enrol.json"))).RootElement.GetProperty("identity").GetProperty("id").GetInt64();

        var identify = Run(["gallery", "identify", "--data", dir.Path, "--json", dir.File("id.json"), .. clip]);
        Assert.True(identify.ExitCode == 0, identify.Stderr + identify.Stdout);
        var first = JsonDocument.Parse(File.ReadAllText(dir.File("id.json"))).RootElement.GetProperty("tracks")[0];
        Assert.False(first.GetProperty("unknown").GetBoolean());
        Assert.Equal(walker, first.GetProperty("matches")[0].GetProperty("identity").GetInt64());

        var verify = Run(["gallery", "verify", "--data", dir.Path, "--identity", walker.ToString(), "--json", dir.File("verify.json"), .. clip]);
        Assert.True(verify.ExitCode == 0, verify.Stderr + verify.Stdout);
        Assert.Contains("MATCH: walker", verify.Stdout);
        Assert.True(JsonDocument.Parse(File.ReadAllText(dir.File("verify.json"))).RootElement.GetProperty("match").GetBoolean());
        var strict = Run(["gallery", "verify", "--data", dir.Path, "--identity", walker.ToString(), "--threshold", "1", .. clip]);
        Assert.Contains("NO MATCH: walker", strict.Stdout);
        var neither = Run("gallery", "verify", "--data", dir.Path, "--identity", walker.ToString());
        Assert.Equal(1, neither.ExitCode);
        Assert.Contains("--image FILE… or --video FILE", neither.Stderr);
    }

    [SharedFact]
    public void A_gallery_enrolled_with_another_model_warns_until_it_is_reembedded()
    {
        using var dir = new TempDir();
        var a = ImagesOf("0002", 4);
        Assert.Equal(0, Run(["gallery", "enrol", "--data", dir.Path, "--name", "Anna", "--model", SharedData.OsnetMsmt17, "--images", .. a[..3]]).ExitCode);
        var stale = Run("gallery", "identify", "--data", dir.Path, "--image", a[3]);   // the default model: none of its embeddings yet
        Assert.True(stale.ExitCode == 0, stale.Stderr);
        Assert.Contains("3 stored sighting(s) have no embedding from model", stale.Stderr);
        Assert.Contains("reid gallery reembed", stale.Stderr);
        var reembed = Run("gallery", "reembed", "--data", dir.Path);
        Assert.True(reembed.ExitCode == 0, reembed.Stderr);
        Assert.DoesNotContain("have no embedding", reembed.Stderr);
        var fresh = Run("gallery", "identify", "--data", dir.Path, "--image", a[3]);
        Assert.DoesNotContain("have no embedding", fresh.Stderr);
        Assert.Contains("IDENTIFIED: Anna", fresh.Stdout);
    }

    [SharedFact]
    public void Enrol_then_identify_writes_the_documented_json_best_first()
    {
        using var dir = new TempDir();
        var a = ImagesOf("0002", 4);
        var b = ImagesOf("0007", 3);
        Assert.Equal(0, Run(["gallery", "enrol", "--data", dir.Path, "--name", "Anna", "--images", .. a[..3]]).ExitCode);
        Assert.Equal(0, Run(["gallery", "enrol", "--data", dir.Path, "--name", "Ben", "--images", .. b]).ExitCode);
        var json = dir.File("id.json");
        var (code, output, err) = Run("gallery", "identify", "--data", dir.Path, "--image", a[3], "--json", json, "--threshold", "0.6");
        Assert.True(code == 0, err);
        Assert.Contains("IDENTIFIED: Anna", output);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.False(root.GetProperty("unknown").GetBoolean());
        var matches = root.GetProperty("matches").EnumerateArray().ToArray();
        Assert.Equal("Anna", matches[0].GetProperty("name").GetString());
        Assert.True(matches[0].GetProperty("identity").GetInt64() > 0);
        Assert.True(matches[0].GetProperty("score").GetDouble() > matches[1].GetProperty("score").GetDouble());

        var list = Run("gallery", "list", "--data", dir.Path);
        Assert.Contains("Anna", list.Stdout);
        Assert.Contains("2 identities", list.Stdout);
    }

    [SharedFact]
    public void User_errors_exit_1_with_one_line_and_bad_usage_exits_2()
    {
        using var dir = new TempDir();
        var bad = dir.File("bad.jpg");
        File.WriteAllBytes(bad, [0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 1]);
        var r = Run("gallery", "enrol", "--data", dir.Path, "--name", "X", "--images", bad);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("bad.jpg", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal(1, Run("gallery", "delete", "--data", dir.Path, "--identity", "42").ExitCode);
        Assert.Equal(2, Run("gallery", "identify", "--image", bad).ExitCode); // --data missing
        Assert.Empty(GalleryStore.Open(dir.Path).ListIdentities());
    }

    [Fact]
    public void Delete_sighting_erases_one_crop_and_refuses_the_identitys_last()
    {
        using var dir = new TempDir();
        var store = GalleryStore.Open(dir.Path);
        var id = store.CreateIdentity("Ada", null, [GalleryStoreTests.Sighting(GalleryStoreTests.Unit(8, 1)), GalleryStoreTests.Sighting(GalleryStoreTests.Unit(8, 2))], "m1", "test");
        var (first, second) = (store.GetSightings(id)[0].Id, store.GetSightings(id)[1].Id);

        var ok = Run("gallery", "delete-sighting", "--data", dir.Path, "--sighting", $"{first}", "--reason", "cut at the border");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains($"identity {id} has 1 sighting(s) left", ok.Stdout);
        Assert.Equal([second], store.GetSightings(id).Select(s => s.Id));

        var last = Run("gallery", "delete-sighting", "--data", dir.Path, "--sighting", $"{second}");
        Assert.Equal(1, last.ExitCode);
        Assert.Contains("delete the identity instead", last.Stderr);
        var missing = Run("gallery", "delete-sighting", "--data", dir.Path, "--sighting", "999");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("sighting 999 does not exist", missing.Stderr);
        Assert.Single(store.GetSightings(id));
    }

    [SharedFact]
    public void Sigkill_in_the_middle_of_an_enrolment_leaves_the_store_consistent()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Run(["gallery", "enrol", "--data", dir.Path, "--name", "keeper", "--images", .. ImagesOf("0010", 2)]).ExitCode);

        // Kills at arbitrary moments: each time the identity is wholly there or not at all. (A kill at the worst
        // moment, between two sightings of one enrolment, is SqliteGalleryStoreTests' crash test.)
        var rng = new Random(5);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var q = Start(["gallery", "enrol", "--data", dir.Path, "--name", $"race{attempt}", "--images", .. ImagesOf("0012", 3)]);
            Thread.Sleep(rng.Next(300, 2500));
            if (!q.HasExited) q.Kill();
            q.WaitForExit();
            var race = GalleryStore.Open(dir.Path).ListIdentities($"race{attempt}");
            Assert.True(race.Count == 0 || race.Single().SightingCount == 3, $"race{attempt}: partial identity");
        }
        Assert.Empty(GalleryStore.Open(dir.Path).CheckConsistency());
        Assert.Equal(0, Run(["gallery", "enrol", "--data", dir.Path, "--name", "after", "--images", .. ImagesOf("0020", 1)]).ExitCode);

        // Kept means findable: the survivor and the enrolment after the crashes identify their own crops as themselves.
        foreach (var (name, image) in new[] { ("keeper", ImagesOf("0010", 1)[0]), ("after", ImagesOf("0020", 1)[0]) })
        {
            var found = Run("gallery", "identify", "--data", dir.Path, "--image", image, "--json", dir.File($"{name}.json"));
            Assert.True(found.ExitCode == 0, found.Stderr);
            var top = JsonDocument.Parse(File.ReadAllText(dir.File($"{name}.json"))).RootElement.GetProperty("matches")[0];
            Assert.Equal(name, top.GetProperty("name").GetString());
            Assert.True(top.GetProperty("score").GetSingle() > 0.99f, $"{name}: own crop scored {top.GetProperty("score")}");
        }
    }
}
