using System.Collections.Concurrent;
using Reid.Imaging;
using Reid.Video.Decoding;
using Reid.Video.Output;
using Reid.Video.Tracking;

namespace Reid.Gallery.Live;

/// <summary>
/// The latest frame of every camera for the Live tab's tiles. The pipeline only hands over a reference
/// (<see cref="Offer"/>: frames are fresh buffers, nothing is copied or encoded on the camera's thread); a JPEG is
/// made when someone asks (<see cref="Jpeg"/>) — the frame copied, each tracked box drawn with its person's name once
/// the watcher has decided it (<see cref="Learn"/>, from the association events) or its track id before, and encoded —
/// at most once per <see cref="MinInterval"/> per camera: requests in between get the same JPEG. Thread-safe.
/// </summary>
public sealed class LiveFrames
{
    private sealed class Camera
    {
        public VideoFrame? Frame;
        public IReadOnlyList<TrackedBox> Boxes = [];
        public DateTimeOffset FrameAt;
        public byte[]? Jpeg;
        public DateTimeOffset JpegAt;
        public long Encodes;
        public VideoFrame? JpegFrame;
        public readonly Dictionary<int, string> Names = [];
        public readonly Lock Gate = new();
    }

    private readonly ConcurrentDictionary<string, Camera> _cameras = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;

    public LiveFrames(TimeSpan? minInterval = null, TimeProvider? clock = null, int jpegQuality = 75)
    {
        MinInterval = minInterval ?? TimeSpan.FromSeconds(1);
        _clock = clock ?? TimeProvider.System;
        JpegQuality = jpegQuality;
    }

    public TimeSpan MinInterval { get; }
    public int JpegQuality { get; }

    /// <summary>The camera's newest frame and its tracked boxes (called on the camera's thread for every processed frame).</summary>
    public void Offer(string camera, VideoFrame frame, IReadOnlyList<TrackedBox> boxes)
    {
        var c = _cameras.GetOrAdd(camera, _ => new Camera());
        lock (c.Gate) (c.Frame, c.Boxes, c.FrameAt) = (frame, boxes, _clock.GetUtcNow());
    }

    /// <summary>Track <paramref name="track"/> of <paramref name="camera"/> is <paramref name="name"/> (from an association event).</summary>
    public void Learn(string camera, int track, string name)
    {
        var c = _cameras.GetOrAdd(camera, _ => new Camera());
        lock (c.Gate)
        {
            // Trackers count up: the oldest ids are long gone, so a bounded map keeps the newest.
            if (c.Names.Count >= 512) foreach (var old in c.Names.Keys.Order().Take(256).ToList()) c.Names.Remove(old);
            c.Names[track] = name;
        }
    }

    public bool Has(string camera) => _cameras.TryGetValue(camera, out var c) && c.Frame is not null;

    /// <summary>JPEGs encoded so far for <paramref name="camera"/> (the throttle's test).</summary>
    public long Encodes(string camera) => _cameras.TryGetValue(camera, out var c) ? Interlocked.Read(ref c.Encodes) : 0;

    /// <summary>The annotated JPEG of the camera's latest frame and when that frame came; null when no frame came yet.</summary>
    public (byte[] Jpeg, DateTimeOffset FrameAt)? Jpeg(string camera)
    {
        if (!_cameras.TryGetValue(camera, out var c)) return null;
        VideoFrame frame;
        IReadOnlyList<TrackedBox> boxes;
        Dictionary<int, string> names;
        DateTimeOffset at;
        lock (c.Gate)
        {
            if (c.Frame is null) return null;
            var now = _clock.GetUtcNow();
            if (c.Jpeg is not null && now - c.JpegAt < MinInterval) return (c.Jpeg, c.FrameAt);
            // Claim this interval before encoding, so concurrent requests reuse the previous JPEG instead of encoding too.
            c.JpegAt = now;
            (frame, boxes, at) = (c.Frame, c.Boxes, c.FrameAt);
            names = new Dictionary<int, string>(c.Names);
            if (c.Jpeg is not null && ReferenceEquals(frame, c.JpegFrame)) return (c.Jpeg, at);   // no newer frame
        }
        var image = new RgbImage(frame.Image.Width, frame.Image.Height, (byte[])frame.Image.Pixels.Clone());
        int scale = Math.Max(1, image.Height / 360);
        foreach (var b in boxes.Where(b => b.Confirmed))
        {
            var colour = FrameAnnotator.ColourOf(b.Track);
            FrameAnnotator.DrawBox(image, b.Box, colour, 2 * scale);
            // As `reid track`'s annotated video: the track id, then the person's name once the watcher gave one.
            var label = names.TryGetValue(b.Track, out var n) ? $"{b.Track} {n}" : b.Track.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int labelHeight = (7 + 2) * 2 * scale;   // BitmapFont (internal to Reid.Video): glyphs 7 px high, 1 px margin above and below
            FrameAnnotator.DrawLabel(image, (int)b.Box.X, Math.Max(0, (int)b.Box.Y - labelHeight), label, colour, 2 * scale);
        }
        var jpeg = ImageCodec.EncodeJpeg(image, JpegQuality);
        lock (c.Gate)
        {
            c.Jpeg = jpeg;
            c.JpegFrame = frame;
            Interlocked.Increment(ref c.Encodes);
        }
        return (jpeg, at);
    }
}
