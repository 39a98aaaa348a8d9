using System.Collections.Concurrent;
using System.Globalization;
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
using Reid.Video.Decoding;
using Reid.Video.Quality;

namespace Reid.Server;

public enum VideoJobState { Probed, Queued, Running, Done, Failed }

/// <summary>
/// One uploaded video: probed at once (size, rate, length, a strip of thumbnails: its timeline), then turned into
/// person tracks over a range of it, either straight away or once the user has chosen the range on the timeline.
/// </summary>
public sealed class VideoJob
{
    public string Id { get; init; } = Guid.NewGuid().ToString("N")[..12];
    public string VideoName { get; init; } = "";
    /// <summary>Who started it (the audit actor: the key's id).</summary>
    public string Owner { get; init; } = "api";
    public VideoJobState State { get; set; } = VideoJobState.Queued;
    public double Progress { get; set; }
    public string? Error { get; set; }
    /// <summary>ffprobe's answer; its Path is the upload's on the server, never shown to the client.</summary>
    public required VideoInfo Info { get; init; }
    public IReadOnlyList<VideoThumbnail> Thumbnails { get; set; } = [];
    /// <summary>Why the video has no thumbnails, when it has none (a file whose frames ffmpeg cannot seek to).</summary>
    public string? TimelineError { get; set; }
    /// <summary>The frames tracked (null until a range is chosen).</summary>
    public FrameRange? Range { get; set; }
    public IReadOnlyList<PersonTrack> Tracks { get; set; } = [];
    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;
    internal string UploadPath { get; init; } = "";
}

/// <summary>
/// Video uploads: the file goes to a temporary folder in the data directory and is probed (ffprobe) and given a
/// timeline (thumbnails) before the upload is answered, so a file that is not a video or a range outside it is a
/// 400 at once rather than a failed job later. One extraction runs at a time in the background (the extractor holds
/// one detector) and the page polls progress, then enrols or identifies a track. Finished jobs are kept in memory
/// (the most recent few); an upload is deleted as soon as it is tracked, and one waiting for its range
/// (<see cref="VideoJobState.Probed"/>) when its key uploads more than <see cref="MaxProbedPerKey"/> such videos or
/// after <see cref="ProbedLifetime"/>.
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

    /// <summary>Videos one key may keep waiting for a range; a newer upload discards the oldest (a user who picks
    /// another file in the page abandons the previous one without saying so).</summary>
    public const int MaxProbedPerKey = 2;

    /// <summary>How long an upload waits for its range before it is discarded.</summary>
    public static readonly TimeSpan ProbedLifetime = TimeSpan.FromHours(1);

    /// <summary>Thumbnails on a video's timeline.</summary>
    public const int TimelineThumbnails = 10;

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

    /// <summary>
    /// Stores and probes an upload and extracts its timeline; with <paramref name="track"/> tracking over
    /// <paramref name="range"/> starts at once, otherwise the job waits (<see cref="VideoJobState.Probed"/>) for
    /// <see cref="TrackRange"/>. A file that is not a video, or a range outside it, is a ReidException (HTTP 400)
    /// naming the client's file, never the server's path.
    /// </summary>
    public VideoJob Upload(string videoName, Stream content, RangeRequest range, bool track, string owner = "api")
    {
        range.CheckOneUnit();
        Expire(owner, makingRoom: !track);
        var id = Guid.NewGuid().ToString("N")[..12];
        var path = Path.Combine(_uploads, id + ".video");
        VideoJob job;
        try
        {
            using (var f = File.Create(path)) content.CopyTo(f);
            var info = FfmpegVideoSource.Probe(path);
            job = new VideoJob { Id = id, VideoName = videoName, Owner = owner, Info = info, UploadPath = path,
                                 State = track ? VideoJobState.Queued : VideoJobState.Probed };
            // checked even when tracking waits: a range outside the video is the client's mistake either way
            var frames = range.Resolve(info);
            if (track) job.Range = frames;
            try { job.Thumbnails = VideoThumbnails.Extract(info, TimelineThumbnails); }
            catch (ReidException e) { job.TimelineError = Private(e.Message, path, videoName); }
        }
        catch (ReidException e)
        {
            File.Delete(path);
            throw new ReidException(Private(e.Message, path, videoName), e);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
        _jobs[job.Id] = job;
        foreach (var old in _jobs.Values.OrderByDescending(j => j.Created).Skip(KeptJobs)) Discard(old);
        if (track) Enqueue(job);
        return job;
    }

    /// <summary>Starts tracking a probed upload over <paramref name="range"/> (checked against the video).</summary>
    public VideoJob TrackRange(string id, RangeRequest range)
    {
        var job = Get(id) ?? throw new BadHttpRequestException($"video job {id} does not exist (uploads wait {ProbedLifetime.TotalMinutes:0} minutes for their range)", 404);
        lock (job)
        {
            if (job.State != VideoJobState.Probed)
                throw new BadHttpRequestException($"video job {id} is {Describe(job.State)}: a range is chosen once, after an upload with track=false; upload the video again for another range", 409);
            job.Range = range.Resolve(job.Info);
            job.State = VideoJobState.Queued;
        }
        Enqueue(job);
        return job;
    }

    private void Enqueue(VideoJob job)
    {
        _ = Task.Run(async () =>
        {
            await _one.WaitAsync();
            try
            {
                job.State = VideoJobState.Running;
                job.Tracks = _extractor.Value.ExtractDetailed(job.UploadPath, job.Range ?? FrameRange.All, camera: null,
                    new Progress<double>(p => job.Progress = p), CancellationToken.None).Tracks;
                job.Progress = 1;
                job.State = VideoJobState.Done;
            }
            catch (Exception e)
            {
                job.Error = e is ReidException ? Private(e.Message, job.UploadPath, job.VideoName) : "video processing failed (logged on the server)";
                job.State = VideoJobState.Failed;
                if (e is not ReidException) _log?.LogError(e, "video job {Job} failed", job.Id);
            }
            finally
            {
                _one.Release();
                File.Delete(job.UploadPath);
            }
        });
    }

    /// <summary>Drops uploads waiting for a range for longer than <see cref="ProbedLifetime"/>, and, when
    /// <paramref name="owner"/> is about to add one, its oldest beyond <see cref="MaxProbedPerKey"/> − 1.</summary>
    private void Expire(string owner, bool makingRoom)
    {
        var waiting = _jobs.Values.Where(j => j.State == VideoJobState.Probed).OrderByDescending(j => j.Created).ToList();
        if (makingRoom) foreach (var j in waiting.Where(j => j.Owner == owner).Skip(MaxProbedPerKey - 1)) Discard(j);
        foreach (var j in waiting.Where(j => DateTimeOffset.UtcNow - j.Created > ProbedLifetime)) Discard(j);
    }

    private void Discard(VideoJob job)
    {
        _jobs.TryRemove(job.Id, out _);
        lock (job)
        {
            // a queued or running job deletes its own upload when it ends
            if (job.State == VideoJobState.Probed) File.Delete(job.UploadPath);
        }
    }

    // ffmpeg's messages name the upload's file on the server: the client knows it by its own name
    private string Private(string message, string path, string videoName) =>
        message.Replace(path, videoName).Replace(_uploads, "uploads");

    internal void Map(RouteGroupBuilder read, RouteGroupBuilder write, ServerOptions options, ILogger log)
    {
        _log = log;
        read.MapPost("/video/jobs", async (HttpContext http) =>
            {
                EnsureRoomFor(ApiKeys.Actor(http));
                var form = await GalleryEndpoints.ReadForm(http, options.MaxVideoRequestBytes);
                var file = form.Files.GetFile("video") ?? throw new ReidException("no video uploaded: add a file in the 'video' field");
                if (file.Length == 0) throw new ReidException($"{file.FileName}: empty file (0 bytes)");
                var range = Range(form);
                var track = form["track"].ToString().Trim().ToLowerInvariant() switch
                {
                    "" or "true" or "1" => true,
                    "false" or "0" => false,
                    var other => throw new ReidException($"'track' must be true (track now) or false (return the timeline, then POST …/track), got '{other}'"),
                };
                await using var s = file.OpenReadStream();
                var job = await Task.Run(() => Upload(Path.GetFileName(file.FileName), s, range, track, ApiKeys.Actor(http)));
                return Results.Json(Describe(job), statusCode: track ? 202 : 201);
            })
            .WithSummary("Upload a video ('video'). The answer carries its timeline (fps, frames, duration, thumbnails; frame 1 is at 0 s). " +
                         "Tracking starts at once over 'from'/'to' (1-based frames, inclusive) or 'from_time'/'to_time' (seconds), default the whole video; " +
                         "with track=false the job waits for POST /api/video/jobs/{id}/track")
            .WithName("UploadVideo").Answers<VideoJobDto>(202).Answers<VideoJobDto>(201).Fails(429)
            .Form(new FormField("video", FieldKind.File, "the video file (any format ffmpeg reads)", Required: true), new FormField("from", FieldKind.Integer, "first frame to track (frames counted from 1)"),
                new FormField("to", FieldKind.Integer, "last frame to track (inclusive)"),
                new FormField("from_time", FieldKind.Number, "or: start, in seconds (frame 1 is at 0 s)"),
                new FormField("to_time", FieldKind.Number, "or: end, in seconds"),
                new FormField("track", FieldKind.Text, "true (default): track at once; false: answer with the timeline and wait for …/track"))
            .DisableAntiforgery();

        read.MapPost("/video/jobs/{id}/track", async (string id, HttpContext http) =>
            {
                EnsureRoomFor(ApiKeys.Actor(http));
                var form = await GalleryEndpoints.ReadForm(http, options.MaxImageRequestBytes);
                return Results.Json(Describe(TrackRange(id, Range(form))), statusCode: 202);
            })
            .WithSummary("Track people in a video uploaded with track=false, over 'from'/'to' (1-based frames) or 'from_time'/'to_time' (seconds from frame 1)")
            .WithName("TrackVideo").Answers<VideoJobDto>(202).Fails(429)
            .Form(new FormField("from", FieldKind.Integer, "first frame to track (frames counted from 1)"),
                new FormField("to", FieldKind.Integer, "last frame to track (inclusive)"),
                new FormField("from_time", FieldKind.Number, "or: start, in seconds (frame 1 is at 0 s)"),
                new FormField("to_time", FieldKind.Number, "or: end, in seconds"))
            .DisableAntiforgery();

        read.MapGet("/video/jobs/{id}/thumbnails/{index:int}", (string id, int index) =>
            {
                var job = Get(id) ?? throw new ReidException($"video job {id} does not exist (finished jobs are kept for a while only)");
                return index >= 0 && index < job.Thumbnails.Count
                    ? Results.Bytes(job.Thumbnails[index].Jpeg, "image/jpeg")
                    : Results.Json(new ApiError($"video job {id} has no thumbnail {index}"), statusCode: 404);
            })
            .WithName("GetThumbnail").Produces<byte[]>(200, "image/jpeg").Fails(404)
            .WithSummary("A thumbnail of the video's timeline (JPEG)");

        read.MapGet("/video/jobs/{id}", (string id) => Get(id) is { } job ? Results.Json(Describe(job)) : Results.Json(new ApiError($"video job {id} does not exist"), statusCode: 404))
            .WithName("GetVideoJob").Answers<VideoJobDto>().Fails(404)
            .WithSummary("Progress and, when done, the person tracks of a video job");

        read.MapGet("/video/jobs/{id}/tracks/{track:int}/crops/{index:int}", (string id, int track, int index) =>
            {
                var t = Track(id, track);
                if (index < 0 || index >= t.Crops.Count) return Results.Json(new ApiError($"track {track} has no crop {index}"), statusCode: 404);
                return Results.Bytes(ImageCodec.EncodeJpeg(t.Crops[index].Image, 90), "image/jpeg");
            })
            .WithName("GetTrackCrop").Produces<byte[]>(200, "image/jpeg").Fails(400, 404)
            .WithSummary("A crop of a tracked person (JPEG)");

        write.MapPost("/video/jobs/{id}/tracks/{track:int}/enrol", async (string id, int track, HttpContext http) =>
            {
                var form = await GalleryEndpoints.ReadForm(http, options.MaxImageRequestBytes);
                var t = Track(id, track);
                var r = await Task.Run(() => _gallery.EnrolCrops(form["name"].ToString(), VideoCrops.From(t, Get(id)!.VideoName), null, ApiKeys.Actor(http)));
                return Results.Json(IdentityDetailDto.From(r), statusCode: 201);
            })
            .WithName("EnrolTrack").Answers<IdentityDetailDto>(201)
            .Form(new FormField("name", FieldKind.Text, "the person's name", Required: true))
            .WithSummary("Enrol a tracked person under 'name' (the track's usable crops: flawed ones are left out)")
            .DisableAntiforgery();

        write.MapPost("/video/jobs/{id}/calibrate", async (string id, HttpContext http) =>
            {
                var form = await GalleryEndpoints.ReadForm(http, options.MaxImageRequestBytes);
                var far = GalleryEndpoints.OptionalDouble(form, "far") ?? 1e-3;
                var r = await Task.Run(() => Calibrate(id, far, ApiKeys.Actor(http)));
                return Results.Json(CalibrationDto.From(_gallery.Model.Id, r));
            })
            .WithName("CalibrateOnVideo").Answers<CalibrationDto>()
            .Form(new FormField("far", FieldKind.Number, "the false-accept rate to hold (default 0.001)"))
            .WithSummary("Set the gallery's decision threshold at false-accept rate 'far' (default 0.001) from this video's tracks: people seen together are different, a track is one person")
            .DisableAntiforgery();

        read.MapPost("/video/jobs/{id}/tracks/{track:int}/identify", (string id, int track) =>
            {
                var t = Track(id, track);
                return IdentifyDto.From(_gallery.IdentifyCrops(VideoCrops.From(t, Get(id)!.VideoName)));
            })
            .WithName("IdentifyTrack").Answers<IdentifyDto>().Fails(400)
            .WithSummary("Identify a tracked person (the track's usable crops form the probe)");

        read.MapPost("/video/jobs/{id}/tracks/{track:int}/search", (string id, int track, int? k) =>
            {
                var t = Track(id, track);
                return _gallery.SearchCrops(VideoCrops.From(t, Get(id)!.VideoName), k).Hits.Select(SearchHitDto.From).ToArray();
            })
            .WithName("SearchTrack").Answers<SearchHitDto[]>().Fails(400)
            .WithSummary("The top-k (default 50) stored sightings most similar to a tracked person (the track's usable crops form the probe)");

        read.MapPost("/video/jobs/{id}/tracks/{track:int}/verify", async (string id, int track, HttpContext http) =>
            {
                var form = await GalleryEndpoints.ReadForm(http, options.MaxImageRequestBytes);
                if (!long.TryParse(form["identity"], out var identity)) throw new ReidException("verify needs the claimed 'identity' (a number)");
                var threshold = GalleryEndpoints.OptionalDouble(form, "threshold");
                var t = Track(id, track);
                var r = await Task.Run(() => _gallery.VerifyCrops(identity, VideoCrops.From(t, Get(id)!.VideoName), threshold));
                return VerifyDto.From(r, _gallery.Store);
            })
            .WithName("VerifyTrack").Answers<VerifyDto>().Fails(404)
            .Form(new FormField("identity", FieldKind.Integer, "the claimed identity's id", Required: true),
                new FormField("threshold", FieldKind.Number, "decide at this score instead of the gallery's threshold"))
            .WithSummary("Is a tracked person the claimed 'identity'? (the track's usable crops form the probe)")
            .DisableAntiforgery();
    }

    /// <summary>
    /// Sets the gallery's threshold from a finished job's tracks (people seen together are different, a track is one
    /// person; see <see cref="TrackPairCalibration"/>); a ReidException says what the video lacked.
    /// </summary>
    public TrackCalibrationResult Calibrate(string id, double far, string actor)
    {
        var job = Get(id) ?? throw new ReidException($"video job {id} does not exist (finished jobs are kept for a while only)");
        if (job.State != VideoJobState.Done) throw new ReidException($"video job {id} is {Describe(job.State)}, not done");
        return ThresholdCalibration.FromVideo(_gallery, [(job.VideoName, job.Tracks)], far, actor);
    }

    private PersonTrack Track(string id, int track)
    {
        var job = Get(id) ?? throw new ReidException($"video job {id} does not exist (finished jobs are kept for a while only)");
        if (job.State != VideoJobState.Done) throw new ReidException($"video job {id} is {Describe(job.State)}, not done");
        return job.Tracks.FirstOrDefault(t => t.Id == track) ?? throw new ReidException($"video job {id} has no track {track}");
    }

    /// <summary>The request's range: 'from'/'to' in 1-based frames or 'from_time'/'to_time' in seconds (frame 1 at 0 s).</summary>
    private static RangeRequest Range(IFormCollection form)
    {
        long? Frame(string key) => string.IsNullOrWhiteSpace(form[key]) ? null
            : long.TryParse(form[key], out var v) && v >= 1 ? v
            : throw new ReidException($"'{key}' must be a frame number, counted from 1 (the first frame is 1), got '{form[key]}'");
        double? Seconds(string key) => string.IsNullOrWhiteSpace(form[key]) ? null
            : double.TryParse(form[key], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= 0 ? v
            : throw new ReidException($"'{key}' must be a time in seconds ≥ 0 from the start (frame 1 is at 0 s), got '{form[key]}'");
        var range = new RangeRequest(Frame("from"), Frame("to"), Seconds("from_time"), Seconds("to_time"));
        if (range.FromFrame is { } a && range.ToFrame is { } b && b < a) throw new ReidException($"'to' frame {b} is before 'from' frame {a}");
        range.CheckOneUnit();
        return range;
    }

    private static string Describe(VideoJobState s) => s.ToString().ToLowerInvariant();

    private static VideoJobDto Describe(VideoJob j)
    {
        var info = j.Info;
        var timeline = new TimelineDto(info.Width, info.Height, info.FramesPerSecond, info.FrameCount, info.Duration,
            "frames are counted from 1; frame n is shown at (n - 1) / fps seconds, so frame 1 is at 0 s",
            j.Thumbnails.Select((t, i) => new ThumbnailDto(t.Frame, t.Time, $"/api/video/jobs/{j.Id}/thumbnails/{i}")).ToArray(),
            j.TimelineError);
        var range = j.Range is { } r
            ? new RangeDto(r.First, r.To ?? info.FrameCount, info.TimeOf(r.First), (r.To ?? info.FrameCount) is { } last ? info.TimeOf(last) : null)
            : null;
        var tracks = j.Tracks.Select(t => new VideoTrackDto(t.Id, t.FirstFrame, t.LastFrame, t.StartTime, t.EndTime, t.Observations.Count,
            Enumerable.Range(0, t.Crops.Count).Select(i => $"/api/video/jobs/{j.Id}/tracks/{t.Id}/crops/{i}").ToArray(),
            t.Crops.Count(c => c.Usable),
            // parallel to crops: a flawed crop is shown greyed with its reason and left out of enrolment and probes
            t.Crops.Select(c => new CropQualityDto(c.Observation.Frame, c.Usable,
                c.Quality?.Flaws.Select(CropQuality.Describe).ToArray() ?? [], c.Quality?.Reason)).ToArray())).ToArray();
        return new VideoJobDto(j.Id, j.VideoName, Describe(j.State), j.Progress, j.Error, timeline, range, tracks);
    }

    public void Dispose()
    {
        if (_extractor.IsValueCreated) _extractor.Value.Dispose();
    }
}
