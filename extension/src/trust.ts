// Workspace trust: in a workspace the user has not trusted, only the built-in models run. A model given as
// a file (a path, or a built-in architecture with other weights) could come from the workspace's content.
// No `vscode` import (unit-tested).

/** A model given as a file or with a file (not a plain built-in id such as `fashion-vgg`). */
export function isModelFile(model: string): boolean {
    return /[\\/@#]/.test(model) || /\.(onnx|pth|pt|safetensors)$/i.test(model);
}

/** Whether `model` may run: built-in ids always, files only in a trusted workspace. */
export function modelAllowed(model: string, trusted: boolean): boolean {
    return trusted || !isModelFile(model);
}
