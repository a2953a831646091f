// axe-core run inside the page: the WCAG 2.1 A and AA rules, as the issue that asked for it
// measured them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.1 A/AA violations on the page as it is now, as "rule: target" lines. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    // Evaluated by the test driver, not added as a <script>: the page's Content-Security-Policy
    // rightly refuses inline scripts without its nonce.
    await page.evaluate(axeSource);
  }
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => ({ id: v.id, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.flatMap((v) => v.targets.map((target) => `${v.id}: ${target}`));
}
