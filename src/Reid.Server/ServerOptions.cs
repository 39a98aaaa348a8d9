namespace Reid.Server;

/// <summary>Settings of `reid serve`; every field has a safe default (loopback only, bounded uploads and rates).</summary>
/// <param name="Urls">where Kestrel listens; 127.0.0.1 unless the operator says otherwise</param>
/// <param name="MaxImageRequestBytes">body limit of image requests (enrol, verify, identify, search)</param>
/// <param name="MaxVideoRequestBytes">body limit of a video upload</param>
/// <param name="PermitsPerSecond">sustained requests per second per API key (token bucket)</param>
/// <param name="Burst">requests a key may make at once above the sustained rate</param>
/// <param name="JsonLogs">structured JSON log lines instead of plain console lines</param>
/// <param name="FailedAuthPerMinute">requests with a missing, unknown or revoked key one client address may make a minute
/// before it gets 429s: made-up keys would otherwise each get their own rate-limit bucket</param>
public sealed record ServerOptions(
    string DataDirectory,
    string Urls = "http://127.0.0.1:5080",
    long MaxImageRequestBytes = 32L * 1024 * 1024,
    long MaxVideoRequestBytes = 1024L * 1024 * 1024,
    int PermitsPerSecond = 200,
    int Burst = 400,
    bool JsonLogs = false,
    int FailedAuthPerMinute = 30);
