// The version lnps reports (`lnps --version`, `getinfo`); kept equal to package.json's.
export const VERSION = '0.1.0';
