/**
 * One CSV row in, one floor area out. CSV values arrive as strings, hence `Number`.
 *
 * @param {{ room: string, w: string, h: string }} room
 */
export default (room) => Number(room.w) * Number(room.h);
