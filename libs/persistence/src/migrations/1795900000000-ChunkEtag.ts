import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A chunk's record keeps what the store said when it made the chunk durable: an object store's
 * part ETag, which completing the upload must present again. Null for chunks on a disk.
 */
export class ChunkEtag1795900000000 implements MigrationInterface {
    name = 'ChunkEtag1795900000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "upload_chunks" ADD "etag" text`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "upload_chunks" DROP COLUMN "etag"`);
    }

}
