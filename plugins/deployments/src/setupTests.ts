import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// CI runs every package's tests at once on 2 cores: give slow renders room
// instead of failing on the library's 1 s and jest's 5 s defaults.
configure({ asyncUtilTimeout: 10_000 });
jest.setTimeout(60_000);
