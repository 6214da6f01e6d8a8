export { manifestCodeVersion as codeVersion, type ManifestCodeVersion as CodeVersion } from "../../core/code-version.js"; // moved (renamed): removed after the merge
