/**
 * Debian's chromium is used (PUPPETEER_EXECUTABLE_PATH or /usr/bin/chromium); puppeteer's own
 * Chrome download is skipped only where that binary exists, so a machine without it keeps
 * puppeteer's normal behaviour.
 */
const { existsSync } = require('node:fs');

const systemChromium = process.env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium';

module.exports = {
  skipDownload: process.env.PUPPETEER_SKIP_DOWNLOAD === 'true' || existsSync(systemChromium),
};
