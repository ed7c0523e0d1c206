using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// Operators that move data without arithmetic: Concat, Split, Flatten, Reshape, Squeeze, Unsqueeze,
/// Transpose, Slice, Shape, Gather, Cast. Axes given as inputs (opset 13+) are read from those small tensors.
/// </summary>
internal static class ShapeOps
{
    public static OnnxKernel Concat(OnnxNodeContext node)
    {
        if (!node.Has("axis")) throw node.Invalid("axis is missing");
        var axis = node.Int("axis", 0);
        return (inputs, _) =>
        {
            var parts = inputs.Where(t => t is not null).Select(t => t!).ToArray();
            if (parts.Length == 0) throw node.Invalid("it has no inputs");
            return [torch.cat(parts, Axis(node, axis, parts[0].dim()))];
        };
    }

    public static OnnxKernel Split(OnnxNodeContext node)
    {
        var axis = node.Int("axis", 0);
        var splitAttribute = node.Opset < 13 ? node.Ints("split") : null;
        var outputs = node.Node.Outputs.Count;
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var a = Axis(node, axis, x.dim());
            var sizes = splitAttribute ?? (OnnxNodeContext.Optional(inputs, 1) is { } s ? OnnxTensors.ToLongs(s) : null);
            if (sizes is null)
            {
                if (x.shape[a] % outputs != 0) throw node.Invalid($"axis {a} of size {x.shape[a]} does not split into {outputs} equal parts");
                sizes = Enumerable.Repeat(x.shape[a] / outputs, outputs).ToArray();
            }
            if (sizes.Length != outputs || sizes.Sum() != x.shape[a])
                throw node.Invalid($"split [{string.Join(", ", sizes)}] does not cover axis {a} of size {x.shape[a]} in {outputs} parts");
            return x.split(sizes, a);
        };
    }

    public static OnnxKernel Flatten(OnnxNodeContext node)
    {
        var axis = node.Int("axis", 1);
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var a = axis < 0 ? axis + x.dim() : axis;
            if (a < 0 || a > x.dim()) throw node.Invalid($"axis {axis} is out of range for {x.dim()} axes");
            var outer = x.shape[..(int)a].Aggregate(1L, (p, d) => p * d);
            var inner = x.shape[(int)a..].Aggregate(1L, (p, d) => p * d);
            return [x.reshape(outer, inner)];
        };
    }

    public static OnnxKernel Reshape(OnnxNodeContext node)
    {
        var allowZero = node.Int("allowzero", 0) != 0;
        var shapeAttribute = node.Opset < 5 ? node.Ints("shape") ?? throw node.Invalid("shape is missing") : null;
        return (inputs, context) =>
        {
            var x = node.Required(inputs, 0);
            var shape = shapeAttribute?.ToArray() ?? OnnxTensors.ToLongs(node.Required(inputs, 1));
            for (var i = 0; i < shape.Length; i++)
                if (shape[i] == 0 && !allowZero)
                    shape[i] = i < x.dim() ? x.shape[i] : throw node.Invalid($"shape has 0 at axis {i}, which the input does not have");
            // A graph exported for batch 1 reshapes to [1, ...]; run with a larger batch, keep the batch.
            if (context is { DeclaredBatch: { } declared, Batch: { } batch } && batch != declared
                && shape.Length > 0 && shape[0] == declared && x.dim() > 0 && x.shape[0] == batch)
                shape[0] = batch;
            return [x.reshape(shape)];
        };
    }

    public static OnnxKernel Squeeze(OnnxNodeContext node)
    {
        var axesAttribute = node.Opset < 13 ? node.Ints("axes") : null;
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var axes = axesAttribute ?? (OnnxNodeContext.Optional(inputs, 1) is { } t ? OnnxTensors.ToLongs(t) : null);
            var drop = axes?.Select(a => Axis(node, a, x.dim())).ToHashSet()
                       ?? Enumerable.Range(0, (int)x.dim()).Where(i => x.shape[i] == 1).Select(i => (long)i).ToHashSet();
            if (drop.Any(a => x.shape[a] != 1)) throw node.Invalid("it squeezes an axis whose size is not 1");
            return [x.reshape(x.shape.Where((_, i) => !drop.Contains(i)).ToArray())];
        };
    }

    public static OnnxKernel Unsqueeze(OnnxNodeContext node)
    {
        var axesAttribute = node.Opset < 13 ? node.Ints("axes") ?? throw node.Invalid("axes is missing") : null;
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var axes = axesAttribute ?? OnnxTensors.ToLongs(node.Required(inputs, 1));
            var rank = x.dim() + axes.Length;
            var inserted = axes.Select(a => Axis(node, a, rank)).ToHashSet();
            if (inserted.Count != axes.Length) throw node.Invalid("axes repeats an axis");
            var shape = new long[rank];
            for (int i = 0, j = 0; i < rank; i++) shape[i] = inserted.Contains(i) ? 1 : x.shape[j++];
            return [x.reshape(shape)];
        };
    }

    public static OnnxKernel Transpose(OnnxNodeContext node)
    {
        var perm = node.Ints("perm");
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var p = perm ?? Enumerable.Range(0, (int)x.dim()).Reverse().Select(i => (long)i).ToArray();
            if (p.Length != x.dim()) throw node.Invalid($"perm has {p.Length} axes for an input of {x.dim()}");
            return [x.permute(p)];
        };
    }

    /// <summary>
    /// Slice: starts, ends, axes and steps per axis (inputs from opset 10, attributes before, without steps);
    /// indices are clamped to the axis as numpy does, negative steps walk backwards.
    /// </summary>
    public static OnnxKernel Slice(OnnxNodeContext node)
    {
        long[]? startsAttribute = null, endsAttribute = null, axesAttribute = null;
        if (node.Opset < 10)
        {
            startsAttribute = node.Ints("starts") ?? throw node.Invalid("starts is missing");
            endsAttribute = node.Ints("ends") ?? throw node.Invalid("ends is missing");
            axesAttribute = node.Ints("axes");
        }
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            var starts = startsAttribute ?? OnnxTensors.ToLongs(node.Required(inputs, 1));
            var ends = endsAttribute ?? OnnxTensors.ToLongs(node.Required(inputs, 2));
            var axes = startsAttribute is null && OnnxNodeContext.Optional(inputs, 3) is { } a ? OnnxTensors.ToLongs(a) : axesAttribute;
            var steps = startsAttribute is null && OnnxNodeContext.Optional(inputs, 4) is { } s ? OnnxTensors.ToLongs(s) : null;
            axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps ??= Padding.Ones(starts.Length);
            if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
                throw node.Invalid("starts, ends, axes and steps differ in length");
            var y = x;
            for (var i = 0; i < starts.Length; i++)
            {
                var axis = Axis(node, axes[i], x.dim());
                var size = x.shape[axis];
                var step = steps[i];
                if (step == 0) throw node.Invalid("a step is 0");
                long Wrap(long v) => v < 0 ? v + size : v;
                if (step > 0)
                {
                    var start = Math.Clamp(Wrap(starts[i]), 0, size);
                    var end = Math.Clamp(Wrap(ends[i]), start, size);
                    y = y.slice(axis, start, end, step);
                }
                else
                {
                    // Backwards from start (clamped to the last element) down to just after end (−1: the first element).
                    var start = Math.Clamp(Wrap(starts[i]), 0, size - 1);
                    var end = Math.Clamp(ends[i] < -size ? -1 : Wrap(ends[i]), -1, size - 1);
                    using var indices = start > end ? torch.arange(start, end, step, ScalarType.Int64) : torch.empty(0, ScalarType.Int64);
                    y = y.index_select(axis, indices);
                }
            }
            return [ReferenceEquals(y, x) ? x.alias() : y];
        };
    }

    public static OnnxKernel Shape(OnnxNodeContext node)
    {
        var start = node.Int("start", 0);
        var end = node.Has("end") ? node.Int("end", 0) : (long?)null;
        return (inputs, _) =>
        {
            var x = node.Required(inputs, 0);
            long rank = x.dim(), s = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
            var e = Math.Clamp(end is { } v ? v < 0 ? v + rank : v : rank, 0, rank);
            return [torch.tensor(x.shape[(int)s..(int)Math.Max(s, e)])];
        };
    }

    public static OnnxKernel Gather(OnnxNodeContext node)
    {
        var axis = node.Int("axis", 0);
        return (inputs, _) =>
        {
            var data = node.Required(inputs, 0);
            var indices = node.Required(inputs, 1).to_type(ScalarType.Int64);
            var a = Axis(node, axis, data.dim());
            var size = data.shape[a];
            indices = torch.where(indices < 0, indices + size, indices);
            var picked = data.index_select(a, indices.flatten());
            return [picked.reshape([.. data.shape[..(int)a], .. indices.shape, .. data.shape[((int)a + 1)..]])];
        };
    }

    public static OnnxKernel Cast(OnnxNodeContext node)
    {
        var to = (OnnxDataType)node.Int("to", 0);
        var type = OnnxTensors.ToScalarType(to) ?? throw node.Unsupported($"Cast to {to}");
        return (inputs, _) => [node.Required(inputs, 0).to_type(type, copy: true)];
    }

    /// <summary>A possibly negative axis, checked against the rank.</summary>
    internal static long Axis(OnnxNodeContext node, long axis, long rank)
    {
        var a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? a : throw node.Invalid($"axis {axis} is out of range for {rank} axes");
    }
}
