using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
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
        Assert.Equal(crops.GetArrayLength(), sightings.GetArrayLength());
        Assert.Equal("street.mp4", sightings[0].GetProperty("source").GetString());
        Assert.InRange(sightings[0].GetProperty("frame").GetInt64(), 60, 110);

        var second = await Upload();
        var probe = $"/api/video/jobs/{second.GetProperty("id").GetString()}/tracks/{second.GetProperty("tracks")[0].GetProperty("track").GetInt32()}";
        var answer = JsonDocument.Parse(await (await reader.PostAsync($"{probe}/identify", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.False(answer.GetProperty("unknown").GetBoolean());
        Assert.Equal("walker", answer.GetProperty("matches")[0].GetProperty("name").GetString());

        var walker = answer.GetProperty("matches")[0].GetProperty("identity").GetInt64();
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

    [Fact]
    public async Task A_video_upload_that_is_not_a_video_fails_the_job_with_a_clear_message()
    {
        await using var server = await TestServer.StartAsync(video: gallery =>
            new VideoJobs(gallery, () => throw new Reid.Core.ReidException("no person detector configured")));
        using var http = server.Client(server.WriteKey);
        var empty = new MultipartFormDataContent { { new ByteArrayContent([]), "video", "empty.mp4" } };
        var r = await http.PostAsync("/api/video/jobs", empty);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var backwards = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "video", "x.mp4" }, { new StringContent("50"), "from" }, { new StringContent("10"), "to" } };
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/video/jobs", backwards)).StatusCode);
        // frames are numbered from 1 (as `reid track --from` says): frame 0 is refused up front, not by a failed job
        var zero = await http.PostAsync("/api/video/jobs", new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "video", "x.mp4" }, { new StringContent("0"), "from" } });
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
        Assert.Contains("counted from 1", await zero.Content.ReadAsStringAsync());
        var started = await http.PostAsync("/api/video/jobs", new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "video", "x.mp4" } });
        var id = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        JsonElement job;
        do { await Task.Delay(100); job = JsonDocument.Parse(await http.GetStringAsync($"/api/video/jobs/{id}")).RootElement; }
        while (job.GetProperty("state").GetString() is "queued" or "running");
        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("detector", job.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
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
            return new VideoJobs(gallery, () => { Thread.Sleep(3000); throw new Reid.Core.ReidException("no person detector configured"); });
        });
        Assert.False(File.Exists(stale));

        using var reader = server.Client(server.ReadKey);
        HttpResponseMessage Upload(HttpClient c) =>
            c.PostAsync("/api/video/jobs", new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "video", "x.mp4" } }).Result;
        Assert.Equal(HttpStatusCode.Accepted, Upload(reader).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, Upload(reader).StatusCode);
        var third = Upload(reader);
        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        Assert.Contains("wait for one to finish", await third.Content.ReadAsStringAsync());
        using var writer = server.Client(server.WriteKey);      // another key still has room
        Assert.Equal(HttpStatusCode.Accepted, Upload(writer).StatusCode);
    }

    [SharedFact]
    public async Task A_video_that_ffmpeg_cannot_read_fails_with_the_clients_file_name_never_a_server_path()
    {
        await using var server = await TestServer.StartAsync(video: gallery =>
            new VideoJobs(gallery, () => new VideoPersonExtractor(VideoConfig.LoadDefault(), SharedData.YoloxNano)));
        using var http = server.Client(server.WriteKey);
        var started = await http.PostAsync("/api/video/jobs", new MultipartFormDataContent { { new ByteArrayContent("not a video at all"u8.ToArray()), "video", "holiday.mp4" } });
        var id = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        JsonElement job;
        do { await Task.Delay(100); job = JsonDocument.Parse(await http.GetStringAsync($"/api/video/jobs/{id}")).RootElement; }
        while (job.GetProperty("state").GetString() is "queued" or "running");
        var error = job.GetProperty("error").GetString()!;
        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("holiday.mp4", error);
        Assert.DoesNotContain(server.Gallery.Store.DataDirectory, error);
        Assert.DoesNotContain(".video", error);
    }
}
