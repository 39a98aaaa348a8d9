using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Reid.Imaging;
using Reid.Server;
using Reid.TestSupport;
using Reid.Video;

namespace Reid.Server.Tests;

/// <summary>Video uploads through the HTTP API: tracked people become enrolable and identifiable tracks.</summary>
public class VideoTests
{
    [SharedFact]
    public async Task A_video_track_is_enrolled_then_identified_and_verified_over_http()
    {
        await using var server = await TestServer.StartAsync(video: gallery =>
            new VideoJobs(gallery, () => new VideoPersonExtractor(VideoConfig.LoadDefault(), SharedData.YoloxNano)));
        using var http = server.Client(server.WriteKey);

        async Task<JsonElement> Upload()
        {
            var form = new MultipartFormDataContent { { new StringContent("60"), "from" }, { new StringContent("110"), "to" } };
            var video = new ByteArrayContent(await File.ReadAllBytesAsync(SharedData.Video));
            video.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
            form.Add(video, "video", "street.mp4");
            var started = await http.PostAsync("/api/video/jobs", form);
            Assert.True(started.StatusCode == HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
            var id = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
            for (var wait = 0; wait < 600; wait++)
            {
                var job = JsonDocument.Parse(await http.GetStringAsync($"/api/video/jobs/{id}")).RootElement;
                var state = job.GetProperty("state").GetString();
                Assert.NotEqual("failed", state);
                if (state == "done") return job;
                await Task.Delay(500);
            }
            throw new TimeoutException("video job did not finish");
        }

        var first = await Upload();
        var track = first.GetProperty("tracks")[0];
        var crops = track.GetProperty("crops");
        Assert.True(crops.GetArrayLength() > 0);
        var crop = await http.GetAsync(crops[0].GetString());
        Assert.Equal("image/jpeg", crop.Content.Headers.ContentType!.MediaType);

        var jobId = first.GetProperty("id").GetString();
        var trackId = track.GetProperty("track").GetInt32();
        using var reader = server.Client(server.ReadKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync($"/api/video/jobs/{jobId}/tracks/{trackId}/enrol",
            new MultipartFormDataContent { { new StringContent("walker"), "name" } })).StatusCode);
        var enrol = await http.PostAsync($"/api/video/jobs/{jobId}/tracks/{trackId}/enrol", new MultipartFormDataContent { { new StringContent("walker"), "name" } });
        Assert.Equal(HttpStatusCode.Created, enrol.StatusCode);
        var sightings = JsonDocument.Parse(await enrol.Content.ReadAsStringAsync()).RootElement.GetProperty("sightings");
        // flawed crops (cut at the border, occluded …) are left out: the enrolment holds the usable ones, every one
        var quality = track.GetProperty("crop_quality");
        Assert.Equal(crops.GetArrayLength(), quality.GetArrayLength());
        var usable = quality.EnumerateArray().Where(q => q.GetProperty("usable").GetBoolean()).Select(q => q.GetProperty("frame").GetInt64()).ToArray();
        Assert.Equal(track.GetProperty("usable_crops").GetInt32(), usable.Length);
        Assert.Equal(usable, sightings.EnumerateArray().Select(x => x.GetProperty("frame").GetInt64()));
        Assert.All(quality.EnumerateArray().Where(q => !q.GetProperty("usable").GetBoolean()), q => Assert.False(string.IsNullOrEmpty(q.GetProperty("reason").GetString())));
        Assert.Equal("street.mp4", sightings[0].GetProperty("source").GetString());
        Assert.InRange(sightings[0].GetProperty("frame").GetInt64(), 60, 110);

        var second = await Upload();
        var probe = $"/api/video/jobs/{second.GetProperty("id").GetString()}/tracks/{second.GetProperty("tracks")[0].GetProperty("track").GetInt32()}";
        var answer = JsonDocument.Parse(await (await reader.PostAsync($"{probe}/identify", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.False(answer.GetProperty("unknown").GetBoolean());
        Assert.Equal("walker", answer.GetProperty("matches")[0].GetProperty("name").GetString());

        var walker = answer.GetProperty("matches")[0].GetProperty("identity").GetInt64();
        // search by a tracked person: walker's stored sightings, best first, as many as asked for
        var hits = JsonDocument.Parse(await (await reader.PostAsync($"{probe}/search?k=3", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(Math.Min(3, sightings.GetArrayLength()), hits.GetArrayLength());
        Assert.All(hits.EnumerateArray(), h => Assert.Equal(walker, h.GetProperty("identity").GetInt64()));
        Assert.Equal(answer.GetProperty("matches")[0].GetProperty("score").GetSingle(), hits[0].GetProperty("score").GetSingle(), 4);
        var verify = await reader.PostAsync($"{probe}/verify", new MultipartFormDataContent { { new StringContent(walker.ToString()), "identity" } });
        var verdict = JsonDocument.Parse(await verify.Content.ReadAsStringAsync()).RootElement;
        Assert.True(verify.StatusCode == HttpStatusCode.OK, verdict.ToString());
        Assert.True(verdict.GetProperty("match").GetBoolean(), verdict.ToString());
        Assert.Equal(answer.GetProperty("matches")[0].GetProperty("score").GetSingle(), verdict.GetProperty("score").GetSingle(), 4);
        var strict = JsonDocument.Parse(await (await reader.PostAsync($"{probe}/verify", new MultipartFormDataContent
            { { new StringContent(walker.ToString()), "identity" }, { new StringContent("1.0"), "threshold" } })).Content.ReadAsStringAsync()).RootElement;
        Assert.False(strict.GetProperty("match").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await reader.PostAsync($"{probe}/verify",
            new MultipartFormDataContent { { new StringContent("999999"), "identity" } })).StatusCode);
    }

    private static MultipartFormDataContent VideoForm(byte[] bytes, string name, params (string Key, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (k, v) in fields) form.Add(new StringContent(v), k);
        form.Add(new ByteArrayContent(bytes), "video", name);
        return form;
    }

    [Fact]
    public async Task Bad_uploads_and_ranges_are_refused_at_once_with_a_clear_message()
    {
        await using var server = await TestServer.StartAsync(video: gallery =>
            new VideoJobs(gallery, () => throw new Reid.Core.ReidException("no person detector configured")));
        using var http = server.Client(server.WriteKey);
        using var tiny = new TinyVideo(30);   // 64x48, 10 frames/s, 3 s
        var video = await File.ReadAllBytesAsync(tiny.Path);
        async Task<string> Refused(MultipartFormDataContent form)
        {
            var r = await http.PostAsync("/api/video/jobs", form);
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, body);
            return JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
        }

        Assert.Contains("empty file", await Refused(VideoForm([], "empty.mp4")));
        Assert.Contains("before 'from' frame 50", await Refused(VideoForm(video, "x.mp4", ("from", "50"), ("to", "10"))));
        // frames are numbered from 1 (as `reid track --from` says): frame 0 is refused up front, not by a failed job
        Assert.Contains("counted from 1", await Refused(VideoForm(video, "x.mp4", ("from", "0"))));
        // a file that is not a video is a 400 naming the client's file, never the server's copy
        var notVideo = await Refused(VideoForm("not a video at all"u8.ToArray(), "holiday.mp4"));
        Assert.Contains("not a readable video: holiday.mp4", notVideo);
        Assert.DoesNotContain(server.Gallery.Store.DataDirectory, notVideo);
        Assert.DoesNotContain(".video", notVideo);
        // a range outside the video, or in frames and seconds at once
        Assert.Contains("to frame 31 is past the end of the video (30 frames, 3 s at 10 frames/s)", await Refused(VideoForm(video, "x.mp4", ("to", "31"))));
        Assert.Contains("from_time 3.5 s is past the end", await Refused(VideoForm(video, "x.mp4", ("from_time", "3.5"))));
        Assert.Contains("both in frames", await Refused(VideoForm(video, "x.mp4", ("from", "2"), ("to_time", "1.5"))));
        Assert.Contains("'from_time' must be a time in seconds", await Refused(VideoForm(video, "x.mp4", ("from_time", "soon"))));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(server.Gallery.Store.DataDirectory, "uploads")));

        // a real video over a valid range is accepted; the job then fails for want of a detector, and says so
        var started = await http.PostAsync("/api/video/jobs", VideoForm(video, "x.mp4", ("from_time", "1"), ("to_time", "2")));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var accepted = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(11, accepted.GetProperty("range").GetProperty("from").GetInt64());
        Assert.Equal(21, accepted.GetProperty("range").GetProperty("to").GetInt64());
        var id = accepted.GetProperty("id").GetString();
        JsonElement job;
        do { await Task.Delay(100); job = JsonDocument.Parse(await http.GetStringAsync($"/api/video/jobs/{id}")).RootElement; }
        while (job.GetProperty("state").GetString() is "queued" or "running");
        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("detector", job.GetProperty("error").GetString());
        // its range was chosen once: another is refused
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"/api/video/jobs/{id}/track", new MultipartFormDataContent { { new StringContent("1"), "from" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task An_upload_returns_its_timeline_first_and_tracks_the_range_chosen_on_it()
    {
        await using var server = await TestServer.StartAsync(video: gallery =>
            new VideoJobs(gallery, () => throw new Reid.Core.ReidException("no person detector configured")));
        using var http = server.Client(server.ReadKey);   // a read key may track and identify
        using var tiny = new TinyVideo(30);
        var probed = await http.PostAsync("/api/video/jobs", VideoForm(await File.ReadAllBytesAsync(tiny.Path), "tiny.mp4", ("track", "false")));
        var body = JsonDocument.Parse(await probed.Content.ReadAsStringAsync()).RootElement;
        Assert.True(probed.StatusCode == HttpStatusCode.Created, body.ToString());
        Assert.Equal("probed", body.GetProperty("state").GetString());
        var timeline = body.GetProperty("timeline");
        Assert.Equal(10, timeline.GetProperty("fps").GetDouble(), 6);
        Assert.Equal(30, timeline.GetProperty("frames").GetInt64());
        Assert.Equal(3.0, timeline.GetProperty("duration").GetDouble(), 6);
        Assert.Equal((64, 48), (timeline.GetProperty("width").GetInt32(), timeline.GetProperty("height").GetInt32()));
        Assert.Contains("frame 1 is at 0 s", timeline.GetProperty("numbering").GetString());
        var thumbnails = timeline.GetProperty("thumbnails").EnumerateArray().ToArray();
        Assert.Equal(10, thumbnails.Length);
        Assert.Equal([2L, 5, 8, 11, 14, 17, 20, 23, 26, 29], thumbnails.Select(t => t.GetProperty("frame").GetInt64()));
        Assert.Equal(0.1, thumbnails[0].GetProperty("time").GetDouble(), 6);
        var jpeg = await http.GetAsync(thumbnails[3].GetProperty("url").GetString());
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType!.MediaType);
        Assert.Equal(48, ImageCodec.Decode(await jpeg.Content.ReadAsByteArrayAsync(), "thumbnail").Height);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("range").ValueKind);

        var id = body.GetProperty("id").GetString();
        var outside = await http.PostAsync($"/api/video/jobs/{id}/track", new MultipartFormDataContent { { new StringContent("2.5"), "from_time" }, { new StringContent("9"), "to_time" } });
        Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
        Assert.Contains("to_time 9 s is past the end", await outside.Content.ReadAsStringAsync());
        var track = await http.PostAsync($"/api/video/jobs/{id}/track", new MultipartFormDataContent { { new StringContent("2.5"), "from_time" }, { new StringContent("3"), "to_time" } });
        var tracked = JsonDocument.Parse(await track.Content.ReadAsStringAsync()).RootElement;
        Assert.True(track.StatusCode == HttpStatusCode.Accepted, tracked.ToString());
        var range = tracked.GetProperty("range");
        Assert.Equal((26L, 30L), (range.GetProperty("from").GetInt64(), range.GetProperty("to").GetInt64()));
        Assert.Equal((2.5, 2.9), (range.GetProperty("from_time").GetDouble(), Math.Round(range.GetProperty("to_time").GetDouble(), 6)));
        Assert.Contains(tracked.GetProperty("state").GetString(), new[] { "queued", "running", "failed" });
    }

    [Fact]
    public async Task A_key_keeps_two_uploads_waiting_for_a_range_and_a_third_discards_the_oldest()
    {
        await using var server = await TestServer.StartAsync(video: gallery =>
            new VideoJobs(gallery, () => throw new Reid.Core.ReidException("no person detector configured")));
        using var http = server.Client(server.ReadKey);
        using var tiny = new TinyVideo(10);
        var bytes = await File.ReadAllBytesAsync(tiny.Path);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var r = await http.PostAsync("/api/video/jobs", VideoForm(bytes, $"v{i}.mp4", ("track", "false")));
            ids.Add(JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/video/jobs/{ids[0]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"/api/video/jobs/{ids[0]}/track", new MultipartFormDataContent { { new StringContent("1"), "from" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/video/jobs/{ids[1]}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/video/jobs/{ids[2]}")).StatusCode);
        // the discarded upload's file is gone; the waiting ones are kept under their job's id
        var kept = Directory.EnumerateFiles(Path.Combine(server.Gallery.Store.DataDirectory, "uploads")).Select(Path.GetFileNameWithoutExtension).Order();
        Assert.Equal(ids.Skip(1).Order(), kept);
    }

    [Fact]
    public async Task Uploads_left_by_a_crash_are_removed_and_a_key_cannot_queue_videos_without_bound()
    {
        string? stale = null;
        await using var server = await TestServer.StartAsync(video: gallery =>
        {
            var uploads = Path.Combine(gallery.Store.DataDirectory, "uploads");
            Directory.CreateDirectory(uploads);
            stale = Path.Combine(uploads, "0123456789ab.video");
            File.WriteAllBytes(stale, new byte[1024]);
            // an extractor that takes its time, so jobs stay queued or running while more arrive
            // (long enough to outlast the uploads' probing and thumbnails on a busy machine)
            return new VideoJobs(gallery, () => { Thread.Sleep(15_000); throw new Reid.Core.ReidException("no person detector configured"); });
        });
        Assert.False(File.Exists(stale));

        using var reader = server.Client(server.ReadKey);
        using var tiny = new TinyVideo(10);
        var bytes = File.ReadAllBytes(tiny.Path);
        HttpResponseMessage Upload(HttpClient c) =>
            c.PostAsync("/api/video/jobs", new MultipartFormDataContent { { new ByteArrayContent(bytes), "video", "x.mp4" } }).Result;
        Assert.Equal(HttpStatusCode.Accepted, Upload(reader).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, Upload(reader).StatusCode);
        var third = Upload(reader);
        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        Assert.Contains("wait for one to finish", await third.Content.ReadAsStringAsync());
        using var writer = server.Client(server.WriteKey);      // another key still has room
        Assert.Equal(HttpStatusCode.Accepted, Upload(writer).StatusCode);
    }
}
