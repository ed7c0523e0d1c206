// scripts/package.sh's helper, bundled to out/scripts/natives.js:
//   node out/scripts/natives.js fix-darwin DIR      point Homebrew-path loads at the libraries shipped in DIR
//   node out/scripts/natives.js check DIR TARGET    every problem of a platform's daemon folder; exit 1 if any
import { checkDaemon, filesOnDisk, relinkToShipped } from "./natives";

const [command, dir, target] = process.argv.slice(2);
if (command === "fix-darwin" && dir) {
    for (const line of relinkToShipped(dir)) console.error(`relinked ${line}`);
} else if (command === "check" && dir && target) {
    const report = checkDaemon(filesOnDisk(dir), target);
    for (const p of report.problems) console.error(`${target}: ${p}`);
    console.error(`${target}: ${report.natives} native binaries checked${report.signatures ? `, ${report.signatures} code signatures verified` : ""}; ${report.problems.length} problems`);
    process.exit(report.problems.length ? 1 : 0);
} else {
    console.error("usage: node out/scripts/natives.js check DIR TARGET | fix-darwin DIR");
    process.exit(64);
}
