using System.Net;
using System.Net.Sockets;

namespace Reid.Gallery.Tests;

/// <summary>
/// A TCP forwarder on loopback in front of the test PostgreSQL, to take the database away from a client and bring it
/// back as a restart or a network fault would: <see cref="Cut"/> drops every connection and refuses new ones,
/// <see cref="Silence"/> drops them and then accepts connections that never answer (a black hole), <see cref="Restore"/>
/// forwards again on the same port.
/// </summary>
internal sealed class TcpProxy : IDisposable
{
    private readonly int _upstream;
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private volatile bool _forward = true;
    private bool _disposed;

    public int Port { get; }

    public TcpProxy(int upstreamPort)
    {
        _upstream = upstreamPort;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Listen();
    }

    /// <summary><paramref name="connectionString"/> with its port replaced by this proxy's.</summary>
    public string Through(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Port = Port }.ConnectionString;

    public void Cut()
    {
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            DropAll();
        }
    }

    public void Silence()
    {
        lock (_gate)
        {
            _forward = false;
            DropAll();
        }
    }

    public void Restore()
    {
        lock (_gate)
        {
            _forward = true;
            DropAll();   // connections accepted while silent stay dead, as after a real outage
            if (_listener is null) Listen();
        }
    }

    private void Listen()
    {
        var l = new TcpListener(IPAddress.Loopback, Port);
        l.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        l.Start();
        _listener = l;
        _ = Task.Run(() => Accept(l));
    }

    private async Task Accept(TcpListener l)
    {
        while (true)
        {
            TcpClient client;
            try { client = await l.AcceptTcpClientAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; }
            lock (_gate)
            {
                if (_disposed) { client.Dispose(); return; }
                _open.Add(client);
            }
            if (!_forward) continue;   // held open, never answered
            var server = new TcpClient();
            try { await server.ConnectAsync(IPAddress.Loopback, _upstream); }
            catch (SocketException) { client.Dispose(); server.Dispose(); continue; }
            lock (_gate) _open.Add(server);
            _ = Pump(client, server);
            _ = Pump(server, client);
        }
    }

    private static async Task Pump(TcpClient from, TcpClient to)
    {
        try { await from.GetStream().CopyToAsync(to.GetStream()); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or SocketException) { }
        finally { from.Dispose(); to.Dispose(); }
    }

    private void DropAll()
    {
        foreach (var c in _open)
        {
            // a reset, not a polite close: the client sees its connection broken, as when a server dies
            try { if (c.Client is { } socket) socket.LingerState = new LingerOption(true, 0); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            c.Dispose();
        }
        _open.Clear();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _listener?.Stop();
            DropAll();
        }
    }
}
