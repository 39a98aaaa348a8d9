using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Reid.Core;

namespace Reid.Gallery.Live;

/// <summary>How webhooks are delivered.</summary>
public sealed record WebhookOptions
{
    /// <summary>Events waiting per target; when full, the oldest waiting one is dropped (counted).</summary>
    public int QueueCapacity { get; init; } = 1000;
    /// <summary>Tries per event (the first one included).</summary>
    public int Attempts { get; init; } = 4;
    /// <summary>How long one try may take, connecting included.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Wait before the second try; each further wait is twice the one before.</summary>
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromSeconds(0.5);
}

/// <summary>
/// Signed webhook delivery (issue #22): every association event published on a <see cref="WatchEventHub"/> is POSTed as
/// JSON (the <see cref="AssociationEventDto"/> shape) to every target. Headers: <c>X-Reid-Event</c> (the kind),
/// <c>X-Reid-Event-Id</c> (the hub's id; a retried delivery keeps it, so receivers can drop duplicates),
/// <c>X-Reid-Timestamp</c> (Unix seconds when this try was sent) and
/// <c>X-Reid-Signature: sha256=HEX</c>, HEX = lower-case hex of HMAC-SHA256(secret, TIMESTAMP + "." + BODY) over the
/// UTF-8 bytes of the timestamp header's value, a dot and the raw body: a receiver recomputes it, compares in constant
/// time and refuses old timestamps (replays). A non-2xx answer, a refused connection or a try over
/// <see cref="WebhookOptions.AttemptTimeout"/> is retried after 0.5 s, 1 s, 2 s … up to <see cref="WebhookOptions.Attempts"/>
/// tries, then counted as failed. Each target has its own bounded queue and its own sender, so a failing or hanging
/// target delays neither the watcher (publishing only enqueues) nor the other targets.
/// </summary>
public sealed class Webhooks : IDisposable
{
    public const string SignatureHeader = "X-Reid-Signature", TimestampHeader = "X-Reid-Timestamp",
        EventHeader = "X-Reid-Event", EventIdHeader = "X-Reid-Event-Id", SecretVariable = "REID_WEBHOOK_SECRET";

    private readonly List<Target> _targets;
    private readonly WatchEventHub? _hub;
    private readonly CancellationTokenSource _stop = new();

    public Webhooks(IEnumerable<string> urls, string secret, WebhookOptions? options = null, WatchEventHub? hub = null)
    {
        var o = options ?? new WebhookOptions();
        if (o.Attempts < 1 || o.QueueCapacity < 1 || o.AttemptTimeout <= TimeSpan.Zero)
            throw new ReidException("webhook attempts, queue capacity and timeout must be above 0");
        if (string.IsNullOrEmpty(secret)) throw new ReidException(MissingSecret);
        var key = Encoding.UTF8.GetBytes(secret);
        _targets = urls.Select(u => new Target(ParseUrl(u), key, o, _stop.Token)).ToList();
        if (_targets.Count == 0) throw new ReidException("no webhook URL given");
        if (hub is not null)
        {
            _hub = hub;
            hub.Published += OnPublished;
        }
    }

    public const string MissingSecret = $"a webhook needs a signing secret: give --webhook-secret-file FILE or set {SecretVariable}";

    /// <summary>The secret from a file (its contents, surrounding whitespace removed) or else the environment; null when neither.</summary>
    public static string? ReadSecret(string? file)
    {
        if (file is not null)
        {
            string text;
            try { text = File.ReadAllText(file).Trim(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ReidException($"cannot read the webhook secret file {file}: {e.Message}"); }
            if (text.Length == 0) throw new ReidException($"the webhook secret file {file} is empty");
            return text;
        }
        return Environment.GetEnvironmentVariable(SecretVariable) is { Length: > 0 } s ? s : null;
    }

    /// <summary>An absolute http(s) URL, or a one-line error naming it.</summary>
    public static Uri ParseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
            throw new ReidException($"webhook '{url}' is not an http:// or https:// URL");
        return u;
    }

    /// <summary>The signature header's value for a body sent at <paramref name="timestamp"/>.</summary>
    public static string Sign(byte[] key, string timestamp, byte[] body)
    {
        var signed = new byte[Encoding.UTF8.GetByteCount(timestamp) + 1 + body.Length];
        int n = Encoding.UTF8.GetBytes(timestamp, signed);
        signed[n] = (byte)'.';
        body.CopyTo(signed, n + 1);
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, signed));
    }

    /// <summary>Queues one event for every target (never blocks).</summary>
    public void Post(HubEvent e)
    {
        foreach (var t in _targets) t.Enqueue(e);
    }

    private void OnPublished(HubEvent e)
    {
        if (e.Id > 0) Post(e);   // association events; camera status ticks are not pushed
    }

    public IReadOnlyList<WebhookStatusDto> Status => _targets.Select(t => t.Status()).ToArray();

    /// <summary>Waits up to <paramref name="timeout"/> for the queues to empty (a clean stop delivers what it can).</summary>
    public bool Drain(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (_targets.Any(t => t.Busy))
        {
            if (DateTime.UtcNow >= until) return false;
            Thread.Sleep(50);
        }
        return true;
    }

    public void Dispose()
    {
        if (_hub is not null) _hub.Published -= OnPublished;
        _stop.Cancel();
        foreach (var t in _targets) t.Dispose();
    }

    private sealed class Target : IDisposable
    {
        private readonly Uri _url;
        private readonly byte[] _key;
        private readonly WebhookOptions _options;
        private readonly Channel<HubEvent> _queue;
        private readonly HttpClient _http;
        private readonly Task _sender;
        private long _delivered, _failed, _dropped, _retries, _inFlight;
        private volatile string? _lastError;

        public Target(Uri url, byte[] key, WebhookOptions options, CancellationToken stop)
        {
            (_url, _key, _options) = (url, key, options);
            _queue = Channel.CreateBounded<HubEvent>(new BoundedChannelOptions(options.QueueCapacity)
            { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true }, _ => Interlocked.Increment(ref _dropped));
            _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = options.AttemptTimeout, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            { Timeout = Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("reid-webhook", "1"));
            _sender = Task.Run(() => SendAll(stop));
        }

        public bool Busy => _queue.Reader.Count > 0 || Interlocked.Read(ref _inFlight) > 0;

        public void Enqueue(HubEvent e) => _queue.Writer.TryWrite(e);

        public WebhookStatusDto Status() => new(WebhookStatusDto.Kind, new UriBuilder(_url) { Query = "", UserName = "", Password = "" }.Uri.ToString(),
            Interlocked.Read(ref _delivered), Interlocked.Read(ref _failed), Interlocked.Read(ref _dropped), Interlocked.Read(ref _retries),
            _queue.Reader.Count, _lastError);

        private async Task SendAll(CancellationToken stop)
        {
            try
            {
                await foreach (var e in _queue.Reader.ReadAllAsync(stop))
                {
                    Interlocked.Increment(ref _inFlight);
                    try { await Deliver(e, stop); }
                    finally { Interlocked.Decrement(ref _inFlight); }
                }
            }
            catch (OperationCanceledException) { }
        }

        private async Task Deliver(HubEvent e, CancellationToken stop)
        {
            var body = Encoding.UTF8.GetBytes(e.Json);
            var wait = _options.FirstBackoff;
            for (int attempt = 1; ; attempt++)
            {
                string? error;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    timeout.CancelAfter(_options.AttemptTimeout);
                    try
                    {
                        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(body) };
                        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                        request.Headers.Add(EventHeader, e.Type);
                        request.Headers.Add(EventIdHeader, e.Id.ToString(CultureInfo.InvariantCulture));
                        request.Headers.Add(TimestampHeader, timestamp);
                        request.Headers.Add(SignatureHeader, Sign(_key, timestamp, body));
                        using var answer = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                        if (answer.IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref _delivered);
                            return;
                        }
                        error = $"HTTP {(int)answer.StatusCode} {answer.ReasonPhrase}";
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
                    catch (OperationCanceledException) { error = $"no answer within {_options.AttemptTimeout.TotalSeconds:0.#} s"; }
                    catch (HttpRequestException x) { error = x.InnerException?.Message ?? x.Message; }
                }
                _lastError = $"event {e.Id}, try {attempt}: {error}";
                if (attempt >= _options.Attempts)
                {
                    Interlocked.Increment(ref _failed);
                    return;
                }
                Interlocked.Increment(ref _retries);
                try { await Task.Delay(wait, stop); }
                catch (OperationCanceledException) { return; }
                wait *= 2;
            }
        }

        public void Dispose()
        {
            _queue.Writer.TryComplete();
            try { _sender.Wait(TimeSpan.FromSeconds(1)); } catch (AggregateException) { }
            _http.Dispose();
        }
    }
}
