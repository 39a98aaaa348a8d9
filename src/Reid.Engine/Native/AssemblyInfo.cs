using System.Runtime.CompilerServices;

// The native binding is internal; its tests check version handling and counters directly.
[assembly: InternalsVisibleTo("Reid.Engine.Tests")]
[assembly: InternalsVisibleTo("Reid.Training.Tests")]
