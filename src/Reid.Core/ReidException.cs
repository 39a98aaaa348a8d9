namespace Reid.Core;

/// <summary>
/// An error the user can act on (bad input file, bad config, missing library). Its message is shown as is,
/// on one line, and the CLI exits with code 1; the HTTP API answers 4xx. Anything else is a bug.
/// </summary>
public class ReidException : Exception
{
    public ReidException(string message) : base(message) { }
    public ReidException(string message, Exception inner) : base(message, inner) { }
}
