using Reid.Imaging;

namespace Reid.Video.Tracking;

/// <summary>What the tracker did with one detection of the current frame.</summary>
public readonly record struct TrackAssignment(Track Track, int DetectionIndex, float[]? Embedding);

/// <summary>
/// A DeepSORT-class multi-object tracker with ByteTrack's use of low-score detections.
/// Each frame: Kalman prediction; high-score detections are matched to all live tracks with one Hungarian
/// assignment whose cost mixes the cosine distance between the track's averaged embedding and the
/// detection's embedding with 1 − IoU (motion alone for tentative tracks or without appearance), gated by
/// the Kalman filter's Mahalanobis distance; tracks seen in the previous frame that are still unmatched then
/// take low-score detections by IoU; unmatched high-score detections start tentative tracks, confirmed after
/// a few consecutive hits; lost tracks are deleted after a maximum age.
/// Embeddings are computed only where they matter: a detection that overlaps exactly one freshly embedded,
/// recently seen track with no competitor is matched by motion, and each track is re-embedded at least every
/// <see cref="TrackerConfig.ReembedSeconds"/>.
/// </summary>
public sealed class Tracker
{
    /// <summary>Computes L2-normalised embeddings for the given detections of the current frame.</summary>
    public delegate float[][] EmbedDetections(IReadOnlyList<int> detectionIndices);

    private readonly TrackerConfig _config;
    private readonly KalmanFilter _kalman;
    private readonly List<Track> _tracks = [];
    private readonly int _maxLostFrames, _reembedFrames;
    private int _nextId = 1;
    private long _frame;

    public Tracker(TrackerConfig config, double framesPerSecond)
    {
        config.Validate();
        if (!(framesPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(framesPerSecond));
        _config = config;
        _kalman = new KalmanFilter(config.KalmanPositionWeight, config.KalmanVelocityWeight);
        _maxLostFrames = (int)Math.Round(config.MaxLostSeconds * framesPerSecond);
        _reembedFrames = Math.Max(1, (int)Math.Round(config.ReembedSeconds * framesPerSecond));
    }

    public TrackerConfig Config => _config;

    /// <summary>Live tracks (tentative, confirmed and lost).</summary>
    public IReadOnlyList<Track> Tracks => _tracks;

    /// <summary>Embeddings computed so far (how many crops went through the ReID model).</summary>
    public long EmbeddingsComputed { get; private set; }

    /// <summary>Processes one frame's detections; returns the detections that were assigned to tracks.</summary>
    public IReadOnlyList<TrackAssignment> Update(IReadOnlyList<Detection> detections, EmbedDetections? embed = null)
    {
        _frame++;
        foreach (var t in _tracks)
        {
            _kalman.Predict(t.Kalman);
            t.FramesSinceUpdate++;
        }

        var high = new List<int>();
        var low = new List<int>();
        for (int i = 0; i < detections.Count; i++)
        {
            if (detections[i].Score >= _config.HighScore) high.Add(i);
            else if (detections[i].Score >= _config.LowScore) low.Add(i);
        }

        var embeddings = new float[]?[detections.Count];
        bool appearance = _config.UseAppearance && embed is not null;
        if (appearance)
        {
            var needed = high.Where(d => NeedsEmbedding(d, detections, high)).ToList();
            if (needed.Count > 0)
            {
                var computed = embed!(needed);
                if (computed.Length != needed.Count)
                    throw new InvalidOperationException($"embedder returned {computed.Length} embeddings for {needed.Count} crops");
                for (int k = 0; k < needed.Count; k++) embeddings[needed[k]] = computed[k];
                EmbeddingsComputed += needed.Count;
            }
        }

        var result = new List<TrackAssignment>();
        var matchedTracks = new HashSet<Track>();

        // Pass 1: all live tracks against high-score detections.
        var pass1 = LinearAssignment.Solve(Cost(_tracks, high, detections, embeddings, appearance), 1.0);
        var usedHigh = new HashSet<int>();
        foreach (var (r, c) in pass1.Matches)
        {
            int d = high[c];
            Apply(_tracks[r], detections[d], embeddings[d]);
            matchedTracks.Add(_tracks[r]);
            usedHigh.Add(d);
            result.Add(new TrackAssignment(_tracks[r], d, embeddings[d]));
        }

        // Pass 2: tracks seen in the previous frame take low-score detections (occluded people) by IoU.
        var recent = _tracks.Where(t => !matchedTracks.Contains(t) && t.State == TrackState.Confirmed && t.FramesSinceUpdate == 1).ToList();
        if (recent.Count > 0 && low.Count > 0)
        {
            var cost = new double[recent.Count, low.Count];
            for (int i = 0; i < recent.Count; i++)
            for (int j = 0; j < low.Count; j++)
            {
                float iou = BoundingBox.Iou(recent[i].PredictedBox, detections[low[j]].Box);
                cost[i, j] = iou >= _config.LowScoreMinIou ? 1 - iou : double.PositiveInfinity;
            }
            foreach (var (r, c) in LinearAssignment.Solve(cost, 1.0).Matches)
            {
                Apply(recent[r], detections[low[c]], null);
                matchedTracks.Add(recent[r]);
                result.Add(new TrackAssignment(recent[r], low[c], null));
            }
        }

        // Unmatched tracks: tentative ones die, confirmed ones are lost, old lost ones are deleted.
        foreach (var t in _tracks)
        {
            if (matchedTracks.Contains(t)) continue;
            if (t.State == TrackState.Tentative) t.State = TrackState.Deleted;
            else if (t.State == TrackState.Confirmed) t.State = TrackState.Lost;
            if (t.State == TrackState.Lost && t.FramesSinceUpdate > _maxLostFrames) t.State = TrackState.Deleted;
        }
        _tracks.RemoveAll(t => t.State == TrackState.Deleted);

        // New tentative tracks from confident unmatched detections.
        foreach (var d in high)
        {
            if (usedHigh.Contains(d) || detections[d].Score < _config.NewTrackScore) continue;
            var t = new Track(_nextId++, _kalman.Initiate(detections[d].Box), _frame, detections[d].Box);
            if (_config.ConfirmHits <= 1) t.State = TrackState.Confirmed;
            if (embeddings[d] is { } e) t.AddEmbedding(e, _config.EmbeddingMomentum, _frame);
            _tracks.Add(t);
            result.Add(new TrackAssignment(t, d, embeddings[d]));
        }
        return result;
    }

    private bool NeedsEmbedding(int d, IReadOnlyList<Detection> detections, List<int> high)
    {
        var box = detections[d].Box;
        Track? only = null;
        foreach (var t in _tracks)
        {
            if (BoundingBox.Iou(t.PredictedBox, box) < _config.MinIou) continue;
            if (only is not null) return true; // two tracks compete for it
            only = t;
        }
        if (only is null || only.State != TrackState.Confirmed || only.FramesSinceUpdate != 1 || only.Feature is null) return true;
        if (_frame - only.LastEmbeddingFrame >= _reembedFrames) return true;
        if (BoundingBox.Iou(only.PredictedBox, box) < _config.UnambiguousIou) return true;
        foreach (var other in high)
            if (other != d && BoundingBox.Iou(only.PredictedBox, detections[other].Box) >= _config.MinIou) return true;
        return false;
    }

    private double[,] Cost(List<Track> tracks, List<int> dets, IReadOnlyList<Detection> detections, float[]?[] embeddings, bool appearance)
    {
        var cost = new double[tracks.Count, dets.Count];
        double w = _config.AppearanceWeight;
        for (int i = 0; i < tracks.Count; i++)
        {
            var t = tracks[i];
            var predicted = t.PredictedBox;
            for (int j = 0; j < dets.Count; j++)
            {
                var det = detections[dets[j]];
                double c = double.PositiveInfinity;
                float iou = BoundingBox.Iou(predicted, det.Box);
                if (!_config.MahalanobisGate || _kalman.GatingDistance(t.Kalman, det.Box) <= KalmanFilter.Chi2Gate95)
                {
                    var e = embeddings[dets[j]];
                    if (appearance && t.State != TrackState.Tentative && t.Feature is not null && e is not null)
                    {
                        double app = Embeddings.CosineDistance(t.Feature, e);
                        if (app <= _config.AppearanceGate) c = w * app + (1 - w) * (1 - iou);
                    }
                    else if (iou >= _config.MinIou) c = 1 - iou;
                }
                // A person seen in the previous frame whose last box this one overlaps strongly is this box, however unlike
                // the track's feature it looks or however fast the box changed (someone walking towards the camera
                // grows and narrows faster than the Kalman gate and prediction follow): motion vouches, as in DeepSORT's IoU stage.
                // Costed as the least alike, so any match the gates support is taken first.
                if (double.IsPositiveInfinity(c) && t.FramesSinceUpdate == 1 && BoundingBox.Iou(t.LastBox, det.Box) is var seen && seen >= _config.UnambiguousIou)
                    c = w + (1 - w) * (1 - seen);
                cost[i, j] = c;
            }
        }
        return cost;
    }

    private void Apply(Track t, Detection det, float[]? embedding)
    {
        _kalman.Update(t.Kalman, det.Box);
        t.LastBox = det.Box;
        t.Hits++;
        t.FramesSinceUpdate = 0;
        t.LastFrame = _frame;
        if (embedding is not null) t.AddEmbedding(embedding, _config.EmbeddingMomentum, _frame);
        if (t.State == TrackState.Lost) t.State = TrackState.Confirmed;
        else if (t.State == TrackState.Tentative && t.Hits >= _config.ConfirmHits) t.State = TrackState.Confirmed;
    }
}
