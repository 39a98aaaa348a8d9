using Reid.Core.Config;

namespace Reid.Video.Tracking;

/// <summary>
/// The tracker's thresholds. Defaults were set by judgement and the MOT17 frames, not on TUD-Stadtmitte
/// (which is kept for scoring); configs/video.yaml carries the same values.
/// </summary>
public sealed record TrackerConfig
{
    /// <summary>Match by appearance (DeepSORT-like) as well as motion; false gives the SORT/ByteTrack-like baseline.</summary>
    public bool UseAppearance { get; init; } = true;

    /// <summary>Detections at or above this score are associated first and may start tracks.</summary>
    public float HighScore { get; init; } = 0.5f;

    /// <summary>Detections between this and <see cref="HighScore"/> only extend existing tracks (ByteTrack's second pass).</summary>
    public float LowScore { get; init; } = 0.1f;

    /// <summary>An unmatched detection starts a tentative track only at or above this score.</summary>
    public float NewTrackScore { get; init; } = 0.6f;

    /// <summary>Motion-only pairs need at least this IoU between the predicted box and the detection.</summary>
    public float MinIou { get; init; } = 0.3f;

    /// <summary>Low-score detections need this IoU with a track's predicted box.</summary>
    public float LowScoreMinIou { get; init; } = 0.5f;

    /// <summary>
    /// Appearance pairs farther apart than this cosine distance are never matched. Null: derived from the ReID
    /// model (<see cref="AppearanceGate"/>), because models spread their embeddings differently: the same person
    /// is at cosine distance ~0.2 under the MSMT17 OSNet but ~0.45 under the Market-trained default.
    /// </summary>
    public double? MaxCosineDistance { get; init; }

    /// <summary>The gate when the model declares no threshold and the config sets none (DeepSORT-like; suits the MSMT17 OSNet).</summary>
    public const double FallbackMaxCosineDistance = 0.3;

    /// <summary>The appearance gate in use: the configured distance, else <see cref="FallbackMaxCosineDistance"/>.</summary>
    public double AppearanceGate => MaxCosineDistance ?? FallbackMaxCosineDistance;

    /// <summary>
    /// This config with an unset gate taken from a model's declared decision score (cosine similarity at its
    /// stated false-accept rate): distance = 1 − score. A set gate, or a model without one, leaves it as it is.
    /// </summary>
    public TrackerConfig ForModel(double? declaredScore) => this with { MaxCosineDistance = CosineGate(MaxCosineDistance, declaredScore) };

    /// <summary>
    /// A cosine-distance gate: the configured one, else 1 − the model's declared score (cosine similarity at its
    /// stated false-accept rate), else null (the caller's fallback). Shared by the tracker and the stitcher.
    /// </summary>
    internal static double? CosineGate(double? configured, double? declaredScore) =>
        configured ?? (declaredScore is { } s && s is > -1 and < 1 ? 1 - s : null);

    /// <summary>Weight of the cosine distance against 1 − IoU in the cost of an appearance pair.</summary>
    public double AppearanceWeight { get; init; } = 0.75;

    /// <summary>Reject pairs outside the Kalman filter's 95% gate (Mahalanobis distance).</summary>
    public bool MahalanobisGate { get; init; } = true;

    /// <summary>Consecutive matches before a tentative track is confirmed.</summary>
    public int ConfirmHits { get; init; } = 3;

    /// <summary>How long a lost track may stay unmatched before it is deleted, in seconds.</summary>
    public double MaxLostSeconds { get; init; } = 2.0;

    /// <summary>Momentum of the per-track moving average of embeddings.</summary>
    public double EmbeddingMomentum { get; init; } = 0.9;

    /// <summary>A matched track is re-embedded when its last embedding is older than this, in seconds.</summary>
    public double ReembedSeconds { get; init; } = 1.0;

    /// <summary>
    /// A detection that overlaps exactly one recently updated, confirmed track with at least this IoU (and no
    /// other track or detection competes for it) is matched without computing its embedding.
    /// </summary>
    public float UnambiguousIou { get; init; } = 0.6f;

    /// <summary>Kalman noise: position and velocity standard deviations as fractions of the box height.</summary>
    public double KalmanPositionWeight { get; init; } = 1.0 / 20;
    public double KalmanVelocityWeight { get; init; } = 1.0 / 160;

    public void Validate() => ConfigProblems.Validate("tracker config", Check);

    internal void Check(ConfigProblems p)
    {
        p.Range("tracker.high_score", HighScore, 0, 1);
        p.Range("tracker.low_score", LowScore, 0, HighScore);
        p.Range("tracker.new_track_score", NewTrackScore, HighScore, 1);
        p.Range("tracker.min_iou", MinIou, 0, 1, loOpen: true, hiOpen: true);
        p.Range("tracker.low_score_min_iou", LowScoreMinIou, 0, 1, loOpen: true, hiOpen: true);
        p.Range("tracker.unambiguous_iou", UnambiguousIou, 0, 1, loOpen: true);
        if (MaxCosineDistance is { } gate) p.Range("tracker.max_cosine_distance", gate, 0, 2, loOpen: true);
        p.Range("tracker.appearance_weight", AppearanceWeight, 0, 1);
        p.Range("tracker.embedding_momentum", EmbeddingMomentum, 0, 1, hiOpen: true);
        p.Minimum("tracker.confirm_hits", ConfirmHits, 1);
        p.Minimum("tracker.max_lost_seconds", MaxLostSeconds, 0);
        p.Minimum("tracker.reembed_seconds", ReembedSeconds, 0, open: true);
        p.Minimum("tracker.kalman_position_weight", KalmanPositionWeight, 0, open: true);
        p.Minimum("tracker.kalman_velocity_weight", KalmanVelocityWeight, 0, open: true);
    }
}
