using System.Collections;
using System.Net;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NSwag;
using NSwag.CodeGeneration.CSharp;
using NSwag.CodeGeneration.OperationNameGenerators;
using Reid.Gallery.Tests;

namespace Reid.Server.Tests;

/// <summary>
/// The OpenAPI document is a contract a user's tooling can build on: a C# client generated from /openapi/v1.json by
/// NSwag (a real generator, as a user would run it), compiled with Roslyn, enrols, identifies and deletes through
/// the running server. A document without upload fields, security scheme or 201 cannot pass this.
/// </summary>
public sealed class GeneratedClientTests
{
    /// <summary>The security scheme's name in the document: part of the published contract.</summary>
    private const string SecurityScheme = "api_key";

    [Fact]
    public async Task OpenApi_document_states_uploads_answers_errors_and_the_key()
    {
        // With video jobs on, so that their operations are held to the same contract.
        await using var server = await TestServer.StartAsync(video: gallery =>
            new VideoJobs(gallery, () => throw new Reid.Core.ReidException("no person detector configured")));
        using var http = server.Client(null);
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
        var root = doc.RootElement;
        Assert.StartsWith("3.0", root.GetProperty("openapi").GetString());

        var scheme = root.GetProperty("components").GetProperty("securitySchemes").GetProperty(SecurityScheme);
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal(ApiKeys.Header, scheme.GetProperty("name").GetString());

        var enrol = root.GetProperty("paths").GetProperty("/api/identities").GetProperty("post");
        Assert.Equal("Enrol", enrol.GetProperty("operationId").GetString());
        Assert.True(enrol.GetProperty("security")[0].TryGetProperty(SecurityScheme, out _));
        var form = enrol.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        var images = form.GetProperty("properties").GetProperty("images");
        Assert.Equal("array", images.GetProperty("type").GetString());
        Assert.Equal("binary", images.GetProperty("items").GetProperty("format").GetString());
        Assert.Contains("name", form.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        var responses = enrol.GetProperty("responses");
        foreach (var code in new[] { "201", "400", "401", "403", "413", "415", "429" })
            Assert.True(responses.TryGetProperty(code, out _), $"enrol does not document {code}");
        Assert.False(responses.TryGetProperty("200", out _), "enrol answers 201, not 200");
        Assert.Contains("ApiError", responses.GetProperty("400").GetProperty("content").GetProperty("application/json")
            .GetProperty("schema").GetProperty("$ref").GetString());

        var upload = root.GetProperty("paths").GetProperty("/api/video/jobs").GetProperty("post");
        Assert.Equal("binary", upload.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data")
            .GetProperty("schema").GetProperty("properties").GetProperty("video").GetProperty("format").GetString());
        Assert.True(upload.GetProperty("responses").TryGetProperty("202", out _));

        // Every operation a client calls has a name and a typed answer; /health and the UI's files need no key.
        var problems = new List<string>();
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        foreach (var op in path.Value.EnumerateObject())
        {
            var where = $"{op.Name} {path.Name}";
            if (!op.Value.TryGetProperty("operationId", out _)) problems.Add($"{where} has no operationId");
            if (path.Name.StartsWith("/api/") != op.Value.TryGetProperty("security", out _)) problems.Add($"{where}: security scheme wrong");
            var success = op.Value.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')).ToArray();
            if (success.Length == 0 || !success.All(r => r.Value.TryGetProperty("content", out _))) problems.Add($"{where} does not say what it answers");
        }
        Assert.Empty(problems);
    }

    [Fact]
    public async Task A_client_generated_by_NSwag_enrols_identifies_and_deletes()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client(null);
        var document = await OpenApiDocument.FromJsonAsync(await http.GetStringAsync("/openapi/v1.json"));
        var settings = new CSharpClientGeneratorSettings
        {
            ClassName = "ReidClient",
            OperationNameGenerator = new SingleClientFromOperationIdOperationNameGenerator(),
            UseBaseUrl = false,
            GenerateClientInterfaces = false,
        };
        settings.CSharpGeneratorSettings.Namespace = "Generated";
        settings.CSharpGeneratorSettings.JsonLibrary = NJsonSchema.CodeGeneration.CSharp.CSharpJsonLibrary.SystemTextJson;
        var code = new CSharpClientGenerator(document, settings).GenerateFile();

        var assembly = Compile(code);
        var clientType = assembly.GetType("Generated.ReidClient", throwOnError: true)!;
        var fileParameter = assembly.GetType("Generated.FileParameter", throwOnError: true)!;
        using var keyed = server.Client(server.WriteKey);
        var client = Activator.CreateInstance(clientType, keyed)!;

        object File(int person, int shot) =>
            Activator.CreateInstance(fileParameter, new MemoryStream(Fixtures.PersonJpeg(person, shot)), $"p{person}_{shot}.jpg", "image/jpeg")!;
        object Files(params object[] files)
        {
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(fileParameter))!;
            foreach (var f in files) list.Add(f);
            return list;
        }

        var enrolled = await Call(client, "EnrolAsync", ("name", "Alice"), ("images", Files(File(1, 0), File(1, 1))));
        var identity = Get(enrolled, "Identity");
        var id = (long)Get(identity, "Id")!;
        Assert.Equal("Alice", Get(identity, "Name"));
        await Call(client, "EnrolAsync", ("name", "Bob"), ("images", Files(File(2, 0))));

        var answer = await Call(client, "IdentifyAsync", ("images", Files(File(1, 2))));
        Assert.False((bool)Get(answer, "Unknown")!);
        var best = ((IEnumerable)Get(answer, "Matches")!).Cast<object>().First();
        Assert.Equal(id, (long)Get(best, "Identity")!);

        var deleted = await Call(client, "DeleteIdentityAsync", ("id", id));
        Assert.Equal(id, (long)Get(deleted, "Deleted")!);

        // The documented 404 reaches the caller as the generator's typed exception with the server's message.
        var gone = await Assert.ThrowsAnyAsync<Exception>(() => Call(client, "GetIdentityAsync", ("id", id)));
        Assert.Equal("ApiException`1", gone.GetType().Name);
        Assert.Equal((int)HttpStatusCode.NotFound, (int)gone.GetType().GetProperty("StatusCode")!.GetValue(gone)!);
        Assert.Contains($"identity {id}", (string)Get(gone.GetType().GetProperty("Result")!.GetValue(gone)!, "Error")!);
    }

    private static async Task<object?> Call(object client, string method, params (string Name, object? Value)[] args)
    {
        var m = client.GetType().GetMethods().Single(x => x.Name == method && x.GetParameters().All(p => p.ParameterType != typeof(CancellationToken)));
        var values = m.GetParameters().Select(p => args.FirstOrDefault(a => a.Name == p.Name) is { Name: not null } a ? a.Value : null).ToArray();
        foreach (var (name, _) in args) Assert.Contains(m.GetParameters(), p => p.Name == name);
        var task = (Task)m.Invoke(client, values)!;
        // A body that does not match the documented schema surfaces as the generator's exception around a JsonException.
        try { await task; }
        catch (Exception e) when (e.InnerException is JsonException j)
        {
            throw new Xunit.Sdk.XunitException($"{method}: the answer does not match the document: {j.Message}");
        }
        return task.GetType().GetProperty("Result")?.GetValue(task);
    }

    private static object? Get(object? o, string property) => o!.GetType().GetProperty(property)!.GetValue(o);

    private static Assembly Compile(string code)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("GeneratedReidClient", [CSharpSyntaxTree.ParseText(code)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var dll = new MemoryStream();
        var emitted = compilation.Emit(dll);
        Assert.True(emitted.Success, "the generated client does not compile:\n" +
            string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
        dll.Position = 0;
        return new AssemblyLoadContext("generated-client", isCollectible: true).LoadFromStream(dll);
    }
}
