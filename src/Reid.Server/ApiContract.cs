using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace Reid.Server;

/// <summary>What kind of value a multipart form field carries.</summary>
internal enum FieldKind { Text, Integer, Number, DateTime, Json, File, Files }

/// <summary>One field of a multipart form an endpoint reads.</summary>
internal sealed record FormField(string Name, FieldKind Kind, string Description, bool Required = false);

/// <summary>The multipart form an endpoint reads itself (<see cref="GalleryEndpoints.ReadForm"/> keeps the size limits and
/// the 400 for malformed bodies in one place), declared so that the OpenAPI document can describe it: a handler
/// taking HttpContext shows the document generator no fields.</summary>
internal sealed record FormContract(IReadOnlyList<FormField> Fields);

/// <summary>
/// The API's contract as /openapi/v1.json states it, complete enough for a generated client: every operation has an
/// operationId, its form fields, its answers (201 for creation) and its errors (<see cref="ApiError"/>), and /api
/// operations name the API-key security scheme. OpenAPI 3.0, which every mainstream client generator reads.
/// </summary>
internal static class ApiContract
{
    public const string SecurityScheme = "api_key";

    /// <summary>The endpoint reads this multipart form (through ReadForm, which answers 400, 413 or 415 for a bad body).</summary>
    public static RouteHandlerBuilder Form(this RouteHandlerBuilder b, params FormField[] fields) =>
        b.WithMetadata(new FormContract(fields)).Fails(StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge,
            StatusCodes.Status415UnsupportedMediaType);

    public static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder b, int status = StatusCodes.Status200OK) =>
        b.Produces<T>(status, "application/json");

    /// <summary>Error answers beyond those every /api call can give (401, 429; 403 for writes; the form errors).</summary>
    public static RouteHandlerBuilder Fails(this RouteHandlerBuilder b, params int[] statuses)
    {
        foreach (var s in statuses) b.Produces<ApiError>(s, "application/json");
        return b;
    }

    /// <summary>The errors every endpoint of a group can answer with, as metadata on the group.</summary>
    public static RouteGroupBuilder FailsWith(this RouteGroupBuilder g, params int[] statuses)
    {
        foreach (var s in statuses) g.WithMetadata(new ProducesResponseTypeMetadata(s, typeof(ApiError), ["application/json"]));
        return g;
    }

    public static void Configure(OpenApiOptions o)
    {
        o.OpenApiVersion = OpenApiSpecVersion.OpenApi3_0;
        o.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<FormContract>().LastOrDefault() is { } form) operation.RequestBody = FormBody(form);
            if (operation.Responses is { } responses)
                foreach (var (code, response) in responses)
                    if (ErrorMeaning(code) is { } meaning && response is OpenApiResponse r) r.Description = meaning;
            return Task.CompletedTask;
        });
        // ReidJson writes an undefined number as "NaN" rather than failing the answer, which the schema exporter states as
        // "number or one of three strings"; generators turn that into a wrapper class. Answers carry finite numbers (scores,
        // rates), so the contract says number.
        o.AddSchemaTransformer((schema, context, _) =>
        {
            if (schema.AnyOf is { Count: 2 } any && any.Any(s => s.Type == JsonSchemaType.Number)
                && any.Any(s => s.Enum?.Any(v => v?.ToString() == "NaN") == true))
            {
                schema.AnyOf = null;
                var nullable = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) is not null;
                schema.Type = nullable ? JsonSchemaType.Number | JsonSchemaType.Null : JsonSchemaType.Number;
            }
            return Task.CompletedTask;
        });
        o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "reid — person re-identification gallery";
            document.Info.Description = "Enrol, verify and identify people from images and videos. Every /api call presents an API key " +
                                        $"in the {ApiKeys.Header} header (or Authorization: Bearer KEY). JSON names are snake_case; " +
                                        "errors are {\"error\": \"…\"}.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SecurityScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = ApiKeys.Header,
                Description = "a read key (search, verify, identify) or a read-write key (also enrol, delete); `reid gallery keys add`",
            };
            var requirement = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecurityScheme, document)] = [] };
            foreach (var (path, item) in document.Paths)
                if (path.StartsWith("/api/", StringComparison.Ordinal) && item.Operations is { } operations)
                    foreach (var op in operations.Values) op.Security = [requirement];
            return Task.CompletedTask;
        });
    }

    private static OpenApiRequestBody FormBody(FormContract form)
    {
        var schema = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = new Dictionary<string, IOpenApiSchema>() };
        foreach (var f in form.Fields)
        {
            schema.Properties[f.Name] = FieldSchema(f);
            if (f.Required) (schema.Required ??= new HashSet<string>()).Add(f.Name);
        }
        return new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { ["multipart/form-data"] = new() { Schema = schema } },
        };
    }

    private static OpenApiSchema FieldSchema(FormField f)
    {
        var s = f.Kind switch
        {
            FieldKind.Integer => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" },
            FieldKind.Number => new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double" },
            FieldKind.DateTime => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
            FieldKind.File => new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
            FieldKind.Files => new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
            _ => new OpenApiSchema { Type = JsonSchemaType.String },
        };
        s.Description = f.Kind == FieldKind.Json ? f.Description + " (a JSON object as text)" : f.Description;
        // An optional field may be left out: stated as nullable, or generators make every argument mandatory.
        if (!f.Required) s.Type |= JsonSchemaType.Null;
        return s;
    }

    private static string? ErrorMeaning(string status) => status switch
    {
        "400" => "a bad field or image, or a malformed multipart body",
        "401" => "no API key, or an unknown or revoked one",
        "403" => "the key's role may not do this (a read key writing)",
        "404" => "no such identity, sighting, job, track, crop or camera",
        "409" => "the change would leave the identity without sightings: delete the identity instead",
        "413" => "the upload exceeds the server's size limit",
        "415" => "the body is not multipart/form-data",
        "429" => "too many requests from this key or address: retry later (Retry-After)",
        _ => null,
    };
}
