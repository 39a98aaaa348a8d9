using System.Threading.Channels;
using Reid.Gallery.Video;

namespace Reid.Gallery.Live;

/// <summary>
/// One published item: an association event (<see cref="Id"/> above 0, kept in the hub's ring for resuming) or a camera
/// status (<see cref="Id"/> 0: transient, only the latest per camera is kept). <see cref="Json"/> is the item in the shared
/// shape (<see cref="LiveJson"/>), <see cref="Type"/> its <c>event</c> field.
/// </summary>
public sealed record HubEvent(long Id, string Type, string Json, AssociationEventDto? Association = null);

/// <summary>
/// A reader of the hub. <see cref="Reader"/> is bounded: when the reader falls behind, its oldest items are dropped and
/// counted in <see cref="Lost"/> — the watcher never waits for it. <see cref="Missed"/>: events a resuming reader asked for
/// that had already left the hub's ring (0 when the resume was complete). Dispose to unsubscribe.
/// </summary>
public sealed class HubSubscription : IDisposable
{
    private readonly WatchEventHub _hub;
    private readonly Channel<HubEvent> _channel;
    private long _lost;

    internal HubSubscription(WatchEventHub hub, int capacity)
    {
        _hub = hub;
        _channel = Channel.CreateBounded<HubEvent>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false,
        }, _ => Interlocked.Increment(ref _lost));
    }

    public ChannelReader<HubEvent> Reader => _channel.Reader;
    public long Lost => Interlocked.Read(ref _lost);
    public long Missed { get; internal set; }
    internal bool Offer(HubEvent e) => _channel.Writer.TryWrite(e);
    internal void Complete() => _channel.Writer.TryComplete();

    public void Dispose()
    {
        _hub.Unsubscribe(this);
        Complete();
    }
}

/// <summary>
/// Where the watcher's output goes (issue #22, "events out"): association events get ids 1, 2, 3 … (monotonic for the
/// hub's life) and are kept in a bounded ring of the most recent <c>ringCapacity</c>, so a Server-Sent-Events client that
/// reconnects with Last-Event-ID gets what it missed; camera statuses are passed on as they come and the latest per
/// camera is kept. Publishing never blocks: every subscriber reads through its own bounded channel that drops its
/// oldest items when full (counted), and sinks (<see cref="Published"/>, e.g. webhooks) must not block either.
/// Thread-safe.
/// </summary>
public sealed class WatchEventHub
{
    private readonly Lock _gate = new();
    private readonly HubEvent[] _ring;
    private int _ringStart, _ringCount;
    private long _lastId;
    private readonly List<HubSubscription> _subscribers = [];
    private readonly Dictionary<string, CameraStatusDto> _status = new(StringComparer.Ordinal);
    private readonly List<string> _cameras = [];
    private readonly int _subscriberCapacity;

    public WatchEventHub(int ringCapacity = 1000, int subscriberCapacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ringCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(subscriberCapacity, 1);
        _ring = new HubEvent[ringCapacity];
        _subscriberCapacity = subscriberCapacity;
    }

    /// <summary>Called for every published item, under the hub's lock, in id order: must return at once.</summary>
    public event Action<HubEvent>? Published;

    public long LastId { get { lock (_gate) return _lastId; } }
    public int SubscriberCount { get { lock (_gate) return _subscribers.Count; } }

    /// <summary>Cameras the watcher runs, in order; each shows as connecting until its first status.</summary>
    public void Expect(IEnumerable<string> cameras)
    {
        lock (_gate)
            foreach (var c in cameras)
                if (!_cameras.Contains(c)) { _cameras.Add(c); _status.TryAdd(c, CameraStatusDto.Connecting(c)); }
    }

    /// <summary>The latest status of every camera, in the order they were first expected or reported.</summary>
    public IReadOnlyList<CameraStatusDto> Cameras
    {
        get { lock (_gate) return _cameras.Select(c => _status[c]).ToArray(); }
    }

    public bool Knows(string camera) { lock (_gate) return _status.ContainsKey(camera); }

    public HubEvent Publish(AssociationEvent e)
    {
        var dto = AssociationEventDto.From(e);
        lock (_gate)
        {
            var item = new HubEvent(++_lastId, dto.Event, LiveJson.Serialize(dto), dto);
            if (_ringCount == _ring.Length) { _ringStart = (_ringStart + 1) % _ring.Length; _ringCount--; }
            _ring[(_ringStart + _ringCount) % _ring.Length] = item;
            _ringCount++;
            Deliver(item);
            return item;
        }
    }

    public void Publish(IReadOnlyList<CameraStatus> statuses)
    {
        foreach (var s in statuses) Publish(CameraStatusDto.From(s));
    }

    public void Publish(CameraStatusDto status)
    {
        lock (_gate)
        {
            if (!_status.ContainsKey(status.Camera)) _cameras.Add(status.Camera);
            _status[status.Camera] = status;
            Deliver(new HubEvent(0, CameraStatusDto.Kind, LiveJson.Serialize(status)));
        }
    }

    /// <summary>
    /// A new reader. With <paramref name="lastEventId"/> (an SSE client's Last-Event-ID) it first gets the ring's events
    /// after that id — all of the ring when the id is above every id issued (the hub was restarted and counts from 1 again) —
    /// and <see cref="HubSubscription.Missed"/> says how many had already left the ring. Without it, only what comes next.
    /// </summary>
    public HubSubscription Subscribe(long? lastEventId = null)
    {
        var sub = new HubSubscription(this, _subscriberCapacity);
        lock (_gate)
        {
            if (lastEventId is { } after)
            {
                if (after > _lastId) after = 0;
                long oldest = _ringCount == 0 ? _lastId + 1 : _ring[_ringStart].Id;
                sub.Missed = Math.Max(0, oldest - after - 1);
                for (int i = 0; i < _ringCount; i++)
                {
                    var e = _ring[(_ringStart + i) % _ring.Length];
                    if (e.Id > after) sub.Offer(e);
                }
            }
            _subscribers.Add(sub);
        }
        return sub;
    }

    /// <summary>The ring's events after <paramref name="afterId"/>, oldest first (newest <paramref name="max"/> of them).</summary>
    public IReadOnlyList<HubEvent> Recent(long afterId = 0, int max = int.MaxValue)
    {
        lock (_gate)
        {
            var list = new List<HubEvent>();
            for (int i = 0; i < _ringCount; i++)
                if (_ring[(_ringStart + i) % _ring.Length] is { } e && e.Id > afterId) list.Add(e);
            return list.Count > max ? list.Skip(list.Count - max).ToList() : list;
        }
    }

    internal void Unsubscribe(HubSubscription sub)
    {
        lock (_gate) _subscribers.Remove(sub);
    }

    /// <summary>Ends every subscription (their readers complete once drained), e.g. when the server stops.</summary>
    public void CompleteAll()
    {
        lock (_gate)
        {
            foreach (var s in _subscribers) s.Complete();
            _subscribers.Clear();
        }
    }

    private void Deliver(HubEvent item)
    {
        foreach (var s in _subscribers) s.Offer(item);
        Published?.Invoke(item);
    }
}
