using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Reid.Core;
using Reid.Gallery;
using Reid.Gallery.Api;
using Reid.Gallery.Video;
using Reid.Imaging;
using Reid.Video;
using Reid.Video.Calibration;

namespace Reid.Server;

public enum VideoJobState { Queued, Running, Done, Failed }

/// <summary>One uploaded video being turned into person tracks (progress polled by the UI).</summary>
public sealed class VideoJob
{
    public string Id { get; } = Guid.NewGuid().ToString("N")[..12];
    public string VideoName { get; init; } = "";
    /// <summary>Who started it (the audit actor: the key's id).</summary>
    public string Owner { get; init; } = "api";
    public VideoJobState State { get; set; } = VideoJobState.Queued;
    public double Progress { get; set; }
    public string? Error { get; set; }
    public IReadOnlyList<PersonTrack> Tracks { get; set; } = [];
    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// Video uploads: the file goes to a temporary folder in the data directory, one extraction runs at a time in the
/// background (the extractor holds one detector), the page polls progress, then enrols or identifies a track.
/// Finished jobs are kept in memory (the most recent few) and their upload is deleted as soon as it is read.
/// </summary>
public sealed class VideoJobs : IDisposable
{
    private const int KeptJobs = 16;
    private readonly ConcurrentDictionary<string, VideoJob> _jobs = new();
    private readonly SemaphoreSlim _one = new(1, 1);
    private readonly Lazy<VideoPersonExtractor> _extractor;
    private readonly GalleryService _gallery;
    private readonly string _uploads;
    private ILogger? _log;

    /// <summary>Unfinished (queued or running) jobs one API key may have; each holds an upload of up to 1 GB on disk.</summary>
    public const int MaxUnfinishedPerKey = 2;

    /// <summary>Unfinished jobs over all keys.</summary>
    public const int MaxUnfinished = 8;

    public VideoJobs(GalleryService gallery, Func<VideoPersonExtractor> extractor)
    {
        _gallery = gallery;
        _extractor = new Lazy<VideoPersonExtractor>(extractor, LazyThreadSafetyMode.ExecutionAndPublication);
        _uploads = Path.Combine(gallery.Store.DataDirectory, "uploads");
        Directory.CreateDirectory(_uploads);
        // Jobs live in memory: an upload still here is from a process that died mid-job, and nothing will read it.
        foreach (var stale in Directory.EnumerateFiles(_uploads, "*.video")) File.Delete(stale);
    }

    /// <summary>Refuses (429) before the body is read when <paramref name="owner"/> or the server has too many unfinished jobs.</summary>
    public void EnsureRoomFor(string owner)
    {
        var unfinished = _jobs.Values.Where(j => j.State is VideoJobState.Queued or VideoJobState.Running).ToList();
        if (unfinished.Count(j => j.Owner == owner) >= MaxUnfinishedPerKey)
            throw new BadHttpRequestException($"this key already has {MaxUnfinishedPerKey} videos waiting or being tracked: wait for one to finish", 429);
        if (unfinished.Count >= MaxUnfinished)
            throw new BadHttpRequestException($"the server already has {MaxUnfinished} videos waiting or being tracked: try again later", 429);
    }

    public VideoJob? Get(string id) => _jobs.GetValueOrDefault(id);

    public VideoJob Start(string videoName, Stream content, long? from, long? to, string owner = "api")
    {
        var job = new VideoJob { VideoName = videoName, Owner = owner };
        var path = Path.Combine(_uploads, job.Id + ".video");
        using (var f = File.Create(path)) content.CopyTo(f);
        _jobs[job.Id] = job;
        foreach (var old in _jobs.Values.OrderByDescending(j => j.Created).Skip(KeptJobs)) _jobs.TryRemove(old.Id, out _);
        _ = Task.Run(async () =>
        {
            await _one.WaitAsync();
            try
            {
                job.State = VideoJobState.Running;
                job.Tracks = _extractor.Value.Extract(path, from, to, new Progress<double>(p => job.Progress = p), CancellationToken.None);
                job.Progress = 1;
                job.State = VideoJobState.Done;
            }
            catch (Exception e)
            {
                // the message may name the upload's file on the server (ffmpeg's errors do): the client knows it by its own name
                job.Error = e is ReidException
                    ? e.Message.Replace(path, job.VideoName).Replace(_uploads, "uploads")
                    : "video processing failed (logged on the server)";
                job.State = VideoJobState.Failed;
                if (e is not ReidException) _log?.LogError(e, "video job {Job} failed", job.Id);
            }
            finally
            {
                _one.Release();
                File.Delete(path);
            }
        });
        return job;
    }

    internal void Map(RouteGroupBuilder read, RouteGroupBuilder write, ServerOptions options, ILogger log)
    {
        _log = log;
        read.MapPost("/video/jobs", async (HttpContext http) =>
            {
                EnsureRoomFor(ApiKeys.Actor(http));
                var form = await GalleryEndpoints.ReadForm(http, options.MaxVideoRequestBytes);
                var file = form.Files.GetFile("video") ?? throw new ReidException("no video uploaded: add a file in the 'video' field");
                if (file.Length == 0) throw new ReidException($"{file.FileName}: empty file (0 bytes)");
                long? Frame(string key) => string.IsNullOrWhiteSpace(form[key]) ? null
                    : long.TryParse(form[key], out var v) && v >= 1 ? v
                    : throw new ReidException($"'{key}' must be a frame number, counted from 1 (the first frame is 1), got '{form[key]}'");
                var (from, to) = (Frame("from"), Frame("to"));
                if (from is { } a && to is { } b && b < a) throw new ReidException($"'to' frame {b} is before 'from' frame {a}");
                await using var s = file.OpenReadStream();
                var job = Start(Path.GetFileName(file.FileName), s, from, to, ApiKeys.Actor(http));
                return Results.Json(Describe(job), statusCode: 202);
            })
            .WithSummary("Upload a video ('video', optional 'from'/'to' frames, 1-based): starts tracking people; poll the job")
            .DisableAntiforgery();

        read.MapGet("/video/jobs/{id}", (string id) => Get(id) is { } job ? Results.Json(Describe(job)) : Results.Json(new ApiError($"video job {id} does not exist"), statusCode: 404))
            .WithSummary("Progress and, when done, the person tracks of a video job");

        read.MapGet("/video/jobs/{id}/tracks/{track:int}/crops/{index:int}", (string id, int track, int index) =>
            {
                var t = Track(id, track);
                if (index < 0 || index >= t.Crops.Count) return Results.Json(new ApiError($"track {track} has no crop {index}"), statusCode: 404);
                return Results.Bytes(ImageCodec.EncodeJpeg(t.Crops[index].Image, 90), "image/jpeg");
            })
            .WithSummary("A crop of a tracked person (JPEG)");

        write.MapPost("/video/jobs/{id}/tracks/{track:int}/enrol", async (string id, int track, HttpContext http) =>
            {
                var form = await GalleryEndpoints.ReadForm(http, options.MaxImageRequestBytes);
                var t = Track(id, track);
                var r = await Task.Run(() => _gallery.EnrolCrops(form["name"].ToString(), VideoCrops.From(t, Get(id)!.VideoName), null, ApiKeys.Actor(http)));
                return Results.Json(IdentityDetailDto.From(r), statusCode: 201);
            })
            .WithSummary("Enrol a tracked person under 'name' (all of the track's crops)")
            .DisableAntiforgery();

        write.MapPost("/video/jobs/{id}/calibrate", async (string id, HttpContext http) =>
            {
                var form = await GalleryEndpoints.ReadForm(http, options.MaxImageRequestBytes);
                var far = GalleryEndpoints.OptionalDouble(form, "far") ?? 1e-3;
                var r = await Task.Run(() => Calibrate(id, far, ApiKeys.Actor(http)));
                return Results.Json(CalibrationDto.From(_gallery.Model.Id, r));
            })
            .WithSummary("Set the gallery's decision threshold at false-accept rate 'far' (default 0.001) from this video's tracks: people seen together are different, a track is one person")
            .DisableAntiforgery();

        read.MapPost("/video/jobs/{id}/tracks/{track:int}/identify", (string id, int track) =>
            {
                var t = Track(id, track);
                return IdentifyDto.From(_gallery.IdentifyCrops(VideoCrops.From(t, Get(id)!.VideoName)));
            })
            .WithSummary("Identify a tracked person (all of the track's crops form the probe)");

        read.MapPost("/video/jobs/{id}/tracks/{track:int}/verify", async (string id, int track, HttpContext http) =>
            {
                var form = await GalleryEndpoints.ReadForm(http, options.MaxImageRequestBytes);
                if (!long.TryParse(form["identity"], out var identity)) throw new ReidException("verify needs the claimed 'identity' (a number)");
                var threshold = GalleryEndpoints.OptionalDouble(form, "threshold");
                var t = Track(id, track);
                var r = await Task.Run(() => _gallery.VerifyCrops(identity, VideoCrops.From(t, Get(id)!.VideoName), threshold));
                return VerifyDto.From(r, _gallery.Store);
            })
            .WithSummary("Is a tracked person the claimed 'identity'? (all of the track's crops form the probe)")
            .DisableAntiforgery();
    }

    /// <summary>
    /// Sets the gallery's threshold from a finished job's tracks (people seen together are different, a track is one
    /// person; see <see cref="TrackPairCalibration"/>); a ReidException says what the video lacked.
    /// </summary>
    public TrackCalibrationResult Calibrate(string id, double far, string actor)
    {
        var job = Get(id) ?? throw new ReidException($"video job {id} does not exist (finished jobs are kept for a while only)");
        if (job.State != VideoJobState.Done) throw new ReidException($"video job {id} is {job.State.ToString().ToLowerInvariant()}, not done");
        return ThresholdCalibration.FromVideo(_gallery, [(job.VideoName, job.Tracks)], far, actor);
    }

    private PersonTrack Track(string id, int track)
    {
        var job = Get(id) ?? throw new ReidException($"video job {id} does not exist (finished jobs are kept for a while only)");
        if (job.State != VideoJobState.Done) throw new ReidException($"video job {id} is {job.State.ToString().ToLowerInvariant()}, not done");
        return job.Tracks.FirstOrDefault(t => t.Id == track) ?? throw new ReidException($"video job {id} has no track {track}");
    }

    private static object Describe(VideoJob j) => new
    {
        id = j.Id, video = j.VideoName, state = j.State.ToString().ToLowerInvariant(), progress = j.Progress, error = j.Error,
        tracks = j.Tracks.Select(t => new
        {
            track = t.Id, firstFrame = t.FirstFrame, lastFrame = t.LastFrame, startTime = t.StartTime, endTime = t.EndTime,
            detections = t.Observations.Count,
            crops = Enumerable.Range(0, t.Crops.Count).Select(i => $"/api/video/jobs/{j.Id}/tracks/{t.Id}/crops/{i}").ToArray(),
        }),
    };

    public void Dispose()
    {
        if (_extractor.IsValueCreated) _extractor.Value.Dispose();
    }
}
