export { manifestCodeVersion as codeVersion, type ManifestCodeVersion as CodeVersion } from "../../core/code-version.js"; // moved: removed after the merge
