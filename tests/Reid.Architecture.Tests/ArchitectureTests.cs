namespace Reid.Architecture.Tests;

/// <summary>The written rules of docs/ARCHITECTURE.md hold for the code as it is.</summary>
public class ArchitectureTests
{
    private static readonly SourceTree Tree = SourceTree.Repository();

    private static void Holds(IEnumerable<string> violations, string rule)
    {
        var list = violations.ToList();
        Assert.True(list.Count == 0, $"{rule}:\n  " + string.Join("\n  ", list));
    }

    [Fact]
    public void Native_handles_pointers_and_PInvoke_live_only_in_Native_folders() =>
        Holds(ArchitectureRules.NativeCodeOutsideNative(Tree), "nothing outside Native/ handles an IntPtr, a pointer or a P/Invoke");

    [Fact]
    public void Unsafe_code_is_allowed_only_in_projects_with_a_Native_binding() =>
        Holds(ArchitectureRules.UnsafeOutsideNativeProjects(Tree), "unsafe code only where a Native/ binding needs it");

    [Fact]
    public void Project_references_point_down_the_layers() =>
        Holds(ArchitectureRules.ReferencesAgainstLayers(Tree), "a project references only lower layers");

    [Fact]
    public void The_CLI_uses_the_server_only_to_serve() =>
        Holds(ArchitectureRules.UsesOf(Tree, "Reid.Cli", "Reid.Server", "Commands/ServeCommand.cs"), "the CLI reaches Reid.Server only in `reid serve`");

    [Fact]
    public void Video_perception_knows_nothing_of_the_gallery() =>
        Holds(ArchitectureRules.UsesOf(Tree, "Reid.Video", "Reid.Gallery"), "Reid.Video does not use the identity service above it");

    [Fact]
    public void The_server_does_not_train() =>
        Holds(ArchitectureRules.UsesOf(Tree, "Reid.Server", "Reid.Training")
            .Concat(ArchitectureRules.UsesOf(Tree, "Reid.Server", "Reid.Engine")), "the server serves models; it neither trains nor touches the engine");

    [Fact]
    public void No_project_has_namespace_cycles() =>
        Holds(ArchitectureRules.NamespaceCycles(Tree), "namespaces inside a project import each other without cycles");

    [Fact]
    public void Every_source_project_says_what_it_owns() =>
        Holds(ArchitectureRules.ProjectsWithoutReadme(Tree), "each src project has a README.md");
}

/// <summary>Each check catches a planted violation (so a passing rule means something).</summary>
public class ArchitectureRuleCheckTests
{
    [Fact]
    public void Native_code_is_found_in_code_but_not_in_comments_or_strings()
    {
        const string source = """
            // An IntPtr in a comment is fine.
            /// <summary>So is unsafe in documentation.</summary>
            class A
            {
                string s = "IntPtr in a string";
                string v = @"unsafe ""quoted"" text";
                char c = '"';
                IntPtr handle;
                unsafe void F(float* p) { }
                [DllImport("x")] static extern void G();
            }
            """;
        var hits = ArchitectureRules.NativeCodeIn("A.cs", source).ToList();
        Assert.Equal(3, hits.Count);
        Assert.Contains(hits, h => h.StartsWith("A.cs:8:") && h.Contains("IntPtr handle"));
        Assert.Contains(hits, h => h.StartsWith("A.cs:9:"));
        Assert.Contains(hits, h => h.StartsWith("A.cs:10:"));
    }

    [Fact]
    public void Cycles_are_reported_once_and_acyclic_graphs_pass()
    {
        var cyclic = new Dictionary<string, HashSet<string>>
        {
            ["X.Tensors"] = ["X.Autograd", "X.Native"],
            ["X.Autograd"] = ["X.Tensors"],
            ["X.Native"] = [],
        };
        Assert.Equal(["X.Autograd -> X.Tensors -> X.Autograd"], ArchitectureRules.Cycles(cyclic));
        cyclic["X.Tensors"] = ["X.Native"];
        Assert.Empty(ArchitectureRules.Cycles(cyclic));
    }

    [Fact]
    public void A_reference_up_the_layers_is_reported()
    {
        var tree = SourceTree.Repository();
        var layers = ArchitectureRules.Layers.ToDictionary(kv => kv.Key, kv => kv.Value);
        // Pretend the engine sat above training: Reid.Training's reference to it now points up.
        layers["Reid.Engine"] = 9;
        Assert.Contains(ArchitectureRules.ReferencesAgainstLayers(tree, layers), v => v.StartsWith("Reid.Training (layer 5) references Reid.Engine"));
    }

    [Fact]
    public void Namespaces_and_imports_are_read_from_code()
    {
        var code = SourceTree.CodeOnly("""
            using System;
            using Reid.Engine.Native; // why
            using Tensor = Reid.Engine.Tensors.Tensor;
            namespace Reid.Engine.Functional;
            """);
        Assert.Equal("Reid.Engine.Functional", SourceTree.NamespaceOf(code));
        Assert.Equal(["System", "Reid.Engine.Native", "Reid.Engine.Tensors"], SourceTree.ImportedNamespaces(code));
    }
}
